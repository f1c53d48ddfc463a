/** Shared pieces of the operations tests: a private copy of the ops app, steady load, process checks. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, debianPython } from '../helpers/berth.js';

export interface OpsSite {
  readonly dir: string;
  readonly ini: string;
  /** Rewrites the app's VERSION line (new code for the next reload). */
  setVersion(v: string): void;
  /** Replaces the app with something that no longer imports. */
  breakApp(): void;
  writeIni(extra: readonly string[]): void;
  remove(): void;
}

export function makeOpsSite(extra: readonly string[] = []): OpsSite {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ops-'));
  const source = readFileSync(join(APPS, 'ops.py'), 'utf8');
  const ini = join(dir, 'site.ini');
  const site: OpsSite = {
    dir,
    ini,
    setVersion: (v) => writeFileSync(join(dir, 'ops.py'), source.replace("VERSION = 'v1'", `VERSION = '${v}'`)),
    breakApp: () => writeFileSync(join(dir, 'ops.py'), 'import no_such_module_for_berth\n'),
    writeIni: (more) => writeFileSync(ini, ['[uwsgi]', 'http = 127.0.0.1:0', `chdir = ${dir}`, 'module = ops', `python = ${debianPython()}`, ...more, ''].join('\n')),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  site.setVersion('v1');
  site.writeIni(extra);
  return site;
}

export async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url);
  return { status: r.status, text: await r.text() };
}

/** `n` clients requesting `url` back to back until stop(); counts answers by status and errors. */
export function steadyLoad(url: string, n = 4): { readonly pids: Set<number>; stop(): Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const pids = new Set<number>();
  const loops = Array.from({ length: n }, async () => {
    while (running) {
      try {
        const r = await fetch(url);
        const pid = pidOf(await r.text()); // the ops site's pages name the worker that served them
        if (!Number.isNaN(pid)) pids.add(pid);
        if (r.status === 200) ok++;
        else failed.push(`HTTP ${r.status}`);
      } catch (err) {
        failed.push(String((err as Error).cause ?? err));
      }
    }
  });
  return {
    pids,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ok, failed };
    },
  };
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every process below `pid` (children, grandchildren…). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  let kids: number[];
  try {
    kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    kids = [];
  }
  for (const k of kids) out.push(k, ...descendants(k));
  return out;
}

/** The Python processes below `pid`: workers and, in preload mode, their parent. */
export function pythonDescendants(pid: number): number[] {
  return descendants(pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('berth_worker.py');
    } catch {
      return false;
    }
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie is dead
  } catch {
    return false;
  }
}

export const pidOf = (text: string): number => Number(/pid (\d+)/.exec(text)?.[1] ?? NaN);
