// What the bench commands (bench/run.ts, reload.ts, respawn.ts) share: the repo
// root, the migrated Django app (the same one as run.ts's django scenario), flag
// parsing helpers, the clean-up on Ctrl-C, the results file names and the exit.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIOS, type Prepared } from './scenarios.js';
import { Tracker } from './proc.js';

/** The repo root: the nearest ancestor of this file holding the fixture apps (or the cwd). */
export function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'test/fixtures/apps/hello.py'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export interface DjangoApp {
  appDir: string;
  module: string;
  path: string;
  prepared: Prepared;
}

/** Migrates the Django test project into a temp dir (the caller removes prepared.tempDir). */
export function prepareDjango(root: string, python: string): DjangoApp {
  const scenario = SCENARIOS.find((s) => s.name === 'django');
  if (!scenario?.prepare) throw new Error('bench/lib/scenarios.ts has no django scenario');
  return { appDir: join(root, scenario.appDir), module: scenario.module, path: scenario.path, prepared: scenario.prepare(root, python) };
}

export function positive(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got "${v}"`);
  return n;
}

export function nameList(v: string, known: string[], what: string): string[] {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !known.includes(n));
  if (bad.length > 0) throw new Error(`unknown ${what}: ${bad.join(', ')} (known: ${known.join(', ')})`);
  return names;
}

/** Iterates "--flag value" / "--flag=value" pairs; `take()` consumes the value. */
export function eachFlag(argv: string[], handle: (flag: string, take: () => string) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    handle(flag, () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    });
  }
}

export interface BenchSession {
  readonly root: string;
  /** Every server the bench starts is tracked here, so nothing outlives the bench. */
  readonly tracker: Tracker;
  /** Removed by cleanup(), and on Ctrl-C. */
  readonly tempDirs: string[];
  readonly cleanup: () => void;
}

/** What every bench main starts with: the repository, the process tracker, the temp dirs and their cleanup. */
export function benchSession(): BenchSession {
  const tracker = new Tracker();
  const tempDirs: string[] = [];
  return { root: findRoot(), tracker, tempDirs, cleanup: installCleanup(tracker, tempDirs) };
}

/** Ctrl-C (or a stray SIGTERM/SIGHUP to the bench itself) kills every server and removes the temp dirs. */
function installCleanup(tracker: Tracker, tempDirs: string[]): () => void {
  const cleanup = () => {
    tracker.killAll();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => { process.stderr.write(`\n${sig}: stopping every server started by the bench\n`); cleanup(); process.exit(130); });
  }
  process.on('exit', () => tracker.killAll());
  return cleanup;
}

export const log = (msg: string): void => { process.stderr.write(`${msg}\n`); };

/** bench/results/<prefix><timestamp>, without extension: where this run writes its results. */
export function resultsBase(root: string, prefix = ''): string {
  const outDir = join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  return join(outDir, `${prefix}${new Date().toISOString().replace(/[:.]/g, '-')}`);
}

/** Runs a bench command's main; an error is printed as "<label>: message" and exits 2. */
export function runMain(label: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    log(`${label}: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  });
}

export function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (!Number.isFinite(n)) return '>2000';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
