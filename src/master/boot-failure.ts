/** Explains, in plain words, why the app could not be loaded (shown once; no respawn loop). */
import type { Config } from '../config/schema.js';
import { EXIT_CODES } from '../protocol/worker/frames.js';
import type { WorkerBootFailure } from '../worker/handle.js';
import type { Interpreter } from './interpreter.js';

export interface BootFailureFacts {
  readonly slot: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly failure: WorkerBootFailure | null;
  readonly interpreter: Interpreter;
  readonly config: Config;
  /** What Berth does about it (default: it stops instead of respawning in a loop). */
  readonly consequence?: string;
}

const CODE_NAMES: Record<number, string> = {
  [EXIT_CODES.USAGE]: 'usage error (a Berth bug: please report it)',
  [EXIT_CODES.BOOT_FAILURE]: 'the Python runtime could not start',
  [EXIT_CODES.APP_IMPORT_FAILURE]: 'the app could not be imported',
};

export function describeBootFailure(f: BootFailureFacts): string {
  const how = f.signal !== null ? `was killed by ${f.signal}` : `exited with code ${f.code}${f.code !== null && CODE_NAMES[f.code] ? ` (${CODE_NAMES[f.code]})` : ''}`;
  const app = f.config.module !== null ? `module = ${f.config.module}` : `wsgi-file = ${f.config.wsgiFile}`;
  const lines = [
    `the WSGI app could not be loaded: ${f.slot === 0 ? 'the Python parent that imports it (preload mode)' : `worker ${f.slot}`} ${how} before it was ready. ${f.consequence ?? 'Berth stops instead of respawning it in a loop.'}`,
    `  app:       ${app} (callable = ${f.config.callable})`,
    `  chdir:     ${f.config.chdir ?? process.cwd()}`,
    `  python:    ${f.failure?.executable ?? f.interpreter.path} (${f.interpreter.chosenBy})`,
  ];
  if (f.failure !== null) {
    lines.push(`  sys.path:  ${f.failure.sys_path.join(':')}`);
    lines.push(`  reason:    ${f.failure.message}`);
    if (f.failure.traceback.trim() !== '') lines.push('', f.failure.traceback.trimEnd());
    if (f.failure.kind === 'import' && /ModuleNotFoundError|No module named/.test(f.failure.traceback)) {
      lines.push('', `fix: check 'chdir' and 'pythonpath' (the module must be importable from sys.path above), and that this interpreter has the app's packages (set 'home' to its virtualenv, or 'python' to the right interpreter)`);
    }
  }
  return lines.join('\n');
}
