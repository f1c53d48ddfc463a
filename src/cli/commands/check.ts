/**
 * `berth check [options]`: validates the configuration, then imports the app in one real worker
 * (same interpreter, chdir, pythonpath and env as serving would use) and reports the result.
 */
import { describeConfig } from '../../config/load.js';
import { routeTableLines, summarizeConfig } from '../../config/summary.js';
import { describeExposure, exposedSockets } from '../../config/deployment-checks.js';
import { resolveInterpreter } from '../../master/interpreter.js';
import { warnAboutPluginVersions } from '../../master/python-version.js';
import { spawnWorkerProcess } from '../../master/spawn.js';
import { describeBootFailure } from '../../master/boot-failure.js';
import { WorkerHandle } from '../../worker/handle.js';
import { BerthError } from '../../errors/berth-error.js';
import { loadOrReport } from './load.js';

export async function runCheck(argv: readonly string[]): Promise<number> {
  const config = loadOrReport(argv, 'berth check');
  if (config === null) return 1;
  process.stdout.write(describeConfig(config));
  if (!describeConfig(config).endsWith('\n')) process.stdout.write('\n');
  for (const e of exposedSockets(config)) {
    const { message, fix } = describeExposure(e);
    process.stdout.write(`uwsgi peers: ${message} — ${fix}\n`);
  }
  if (config.proxyRoutes.length > 0 || config.staticMaps.length > 0) process.stdout.write(`routes (first match wins):\n${routeTableLines(config).map((l) => `  ${l}\n`).join('')}`);
  if (config.module === null && config.wsgiFile === null) {
    process.stdout.write(config.needApp
      ? 'app: none (a pure front: Berth starts no Python)\n'
      : 'app: none (need-app = false: Berth starts no Python; static-map and proxy-pass routes are served, every other request is answered 500, as uWSGI does without an app)\n');
    return 0;
  }
  let interpreter;
  try {
    interpreter = resolveInterpreter(config, process.env.PATH);
  } catch (err) {
    process.stderr.write(`[berth] check: ${err instanceof BerthError ? err.message : String(err)}\n`);
    return 1;
  }
  warnAboutPluginVersions(config, interpreter, (message) => void process.stderr.write(`[berth] WARNING: ${message}\n`));
  const child = spawnWorkerProcess({ config, interpreter, slot: 1, check: true });
  let output = '';
  const code = await new Promise<number>((resolve) => {
    const handle = new WorkerHandle(1, 1, config.threads, child, {
      ready: () => undefined,
      free: () => undefined,
      log: (_level, message) => void process.stderr.write(`[berth] ${message}\n`),
      output: (text) => void (output += text),
      exited: (w, exitCode, signal) => {
        if (w.ready !== null && exitCode === 0) {
          process.stdout.write(`app: imported OK by Python ${w.ready.version} at ${w.ready.executable} (${interpreter.chosenBy})\n`);
          const summary = summarizeConfig(config, { python: { path: interpreter.path, chosenBy: interpreter.chosenBy, version: w.ready.version } });
          process.stdout.write(`\nsummary:\n${summary.map((line) => `  ${line}\n`).join('')}`);
          resolve(0);
        } else {
          if (output.trim() !== '' && w.bootFailure === null) process.stderr.write(output);
          process.stderr.write(`[berth] check: ${describeBootFailure({ slot: 1, code: exitCode, signal, failure: w.bootFailure, interpreter, config })}\n`);
          resolve(1);
        }
      },
    });
    void handle;
    child.on('error', (err) => {
      process.stderr.write(`[berth] check: could not start ${interpreter.path}: ${err.message}\n`);
      resolve(1);
    });
  });
  return code;
}
