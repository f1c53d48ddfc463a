/**
 * Starts a real Berth (the built CLI) on port 0 and finds the bound port in its log.
 * Every process started here is stopped by the test that started it (see stop()).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export const REPO = process.cwd();
export const BERTH_BIN = join(REPO, 'bin', 'berth.js');
export const APPS = join(REPO, 'test', 'fixtures', 'apps');

/** Debian's interpreter (sees python3-django / python3-flask). Missing → loud failure, never a skip. */
export function debianPython(): string {
  const p = '/usr/bin/python3';
  if (!existsSync(p)) throw new Error('/usr/bin/python3 is missing: run `sudo bash scripts/install-test-deps.sh` (needs Debian python3, python3-django, python3-flask)');
  return p;
}

export interface RunningBerth {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly url: (path: string) => string;
  logs(): string;
  /** Resolves once `pattern` appears in the log. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Resolve when every worker is ready (default) or as soon as the port is known. */
  readonly waitReady?: boolean;
  /** With `logto`, the log is a file: it is read as well as stderr. */
  readonly logFile?: string;
  /** Another copy of bin/berth.js (e.g. one a dropped-privilege user can read). */
  readonly bin?: string;
  /** Only unix-socket listeners: wait for the workers, and `port` is 0. */
  readonly portless?: boolean;
}

export function startBerth(args: readonly string[], opts: StartOptions = {}): Promise<RunningBerth> {
  // A private TMPDIR, removed at exit: a test that SIGKILLs the master (which then cannot
  // remove its channel directory) leaves nothing in the machine's /tmp. Sticky and
  // world-writable like /tmp, for the tests where Berth drops to another uid.
  const privateTmp = opts.env?.['TMPDIR'] === undefined ? mkdtempSync(join(tmpdir(), 'berth-test-')) : null;
  if (privateTmp !== null) chmodSync(privateTmp, 0o1777);
  const proc = spawn(process.execPath, [opts.bin ?? BERTH_BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...(privateTmp !== null ? { TMPDIR: privateTmp } : {}), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const watchers: { re: RegExp; resolve: () => void }[] = [];
  const onText = (t: string): void => {
    log += t;
    for (let i = watchers.length - 1; i >= 0; i--) {
      if (watchers[i]!.re.test(log)) {
        watchers[i]!.resolve();
        watchers.splice(i, 1);
      }
    }
  };
  proc.stdout!.setEncoding('utf8').on('data', onText);
  proc.stderr!.setEncoding('utf8').on('data', onText);
  let fileOffset = 0;
  const poller = opts.logFile === undefined ? null : setInterval(() => {
    try {
      const text = readFileSync(opts.logFile!, 'utf8');
      if (text.length > fileOffset) {
        const added = text.slice(fileOffset);
        fileOffset = text.length;
        onText(added);
      }
    } catch {
      // not created yet
    }
  }, 50);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      if (poller !== null) clearInterval(poller);
      if (privateTmp !== null) rmSync(privateTmp, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  const waitForLog = (re: RegExp, timeoutMs = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      if (re.test(log)) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in Berth's log:\n${log}`)), timeoutMs);
      watchers.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
      void exited.then(() => {
        clearTimeout(timer);
        if (re.test(log)) resolve();
        else reject(new Error(`Berth exited before ${re} appeared; log:\n${log}`));
      });
    });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    const r = await exited;
    clearTimeout(timer);
    return r;
  };
  return (async () => {
    try {
      if (opts.portless !== true) await waitForLog(/listening on (?:https?|s?uwsgi):\/\/[^\s,]+:(\d+)/);
      if (opts.waitReady !== false || opts.portless === true) {
        await waitForLog(/app ready/);
        await waitForLog(/all \d+ worker\(s\) ready/);
      }
    } catch (err) {
      await stop('SIGKILL');
      throw err;
    }
    const port = opts.portless === true ? 0 : Number(/listening on (?:https?|s?uwsgi):\/\/[^\s,]+:(\d+)/.exec(log)![1]);
    return { proc, port, url: (p: string) => `http://127.0.0.1:${port}${p}`, logs: () => log, waitForLog, stop };
  })();
}

/** Runs the CLI to completion (for `check`, config errors, import failures). */
export function runBerth(args: readonly string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; bin?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [opts.bin ?? BERTH_BIN, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    proc.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`berth ${args.join(' ')} did not finish; stderr:\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A starter for Berths serving test/fixtures/apps/echo with one worker, for a file whose tests
 * each start their own: every one started is stopped after the file's tests.
 */
export function echoBerths(): (args: readonly string[]) => Promise<RunningBerth> {
  const running: RunningBerth[] = [];
  after(async () => {
    for (const b of running) await b.stop();
  });
  return async (args) => {
    const b = await startBerth([...args, '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--processes', '1']);
    running.push(b);
    return b;
  };
}
