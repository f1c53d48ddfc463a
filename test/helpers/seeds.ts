/**
 * The seed deployment notes' own config files (test/fixtures/seeds/, copied verbatim from
 * ../shared/seeds/), adapted only in addresses and paths, plus the Django project each assumes.
 * Every adaptation must match the file, so a test cannot quietly rewrite a seed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { debianPython, REPO } from './berth.js';
import { sharedTempDir } from './nginx.js';

export const SEEDS = join(REPO, 'test', 'fixtures', 'seeds');

/** A seed file with each `[from, to]` replaced (every occurrence); a `from` not found is a test bug. */
export function adaptedSeed(file: string, replacements: readonly (readonly [string, string])[]): string {
  return adaptedText(file, readFileSync(join(SEEDS, file), 'utf8'), replacements);
}

/** The same for a part of a seed file (`what` names it in the error). */
export function adaptedText(what: string, text: string, replacements: readonly (readonly [string, string])[]): string {
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`${what} has no ${JSON.stringify(from)} to adapt: the fixture or the test is wrong`);
    text = text.split(from).join(to);
  }
  return text;
}

/** Writes an adapted seed file into `dir` and returns its path. */
export function writeAdapted(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * A fresh `django-admin startproject NAME` in a world-traversable temp dir (nginx's worker
 * reads static/ and media/), migrated, collected, with an admin user. The caller removes it
 * (an `after` registered here, inside a `before` hook, would run right after that hook).
 */
export function djangoProject(name: string): string {
  const dir = sharedTempDir(`berth-seed-${name}-`);
  try {
    execFileSync(debianPython(), [join(SEEDS, 'make_project.py'), name, dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`making the Django project failed (is python3-django installed? run sudo bash scripts/install-test-deps.sh): ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
  }
  return dir;
}

/** The environment of a shell outside any supervisor (so `daemonize` is the user's own choice). */
export function shellEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !['SUPERVISOR_ENABLED', 'INVOCATION_ID', 'NOTIFY_SOCKET', 'JOURNAL_STREAM'].includes(k)) env[k] = v;
  }
  return env;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends SIGTERM (then SIGKILL after 15 s) to a daemonized master and waits until it is gone. */
export async function stopPid(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    throw new Error(`pid ${pid} ignored SIGTERM for 15 s`);
  }
}

/** Reads a whole reply from a TCP address (a uWSGI-style stats server writes and closes). */
export function readToEnd(port: number, host = '127.0.0.1', timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let text = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`no EOF from ${host}:${port} in ${timeoutMs} ms; got ${text.length} chars`))), timeoutMs);
    s.setEncoding('utf8').on('data', (t: string) => (text += t));
    s.once('end', () => (clearTimeout(timer), resolve(text)));
    s.once('error', (e) => (clearTimeout(timer), reject(e)));
  });
}

/** Polls until `probe` resolves (a daemonized server answers once its workers are up). */
export async function until<T>(what: string, probe: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() > end) throw new Error(`${what} did not happen within ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Runs `start` (which picks its free ports itself) again, up to three times, when it failed
 * because a port it picked was taken meanwhile by another test's process: the seeds write their
 * ports into ini files, so they cannot bind port 0.
 */
export async function withFreshPorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3 || !/already in use|EADDRINUSE/.test(String((err as Error).message))) throw err;
    }
  }
}
