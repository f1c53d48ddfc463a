/**
 * http-direct's connection shares (python/berth_runtime/worker_shares.py): kept connections
 * spread evenly over the workers, and a worker over its share never leaves the backlog waiting
 * on a sibling that is not accepting. Real Berth, real workers; the app names the pid that
 * served each request, and a kept connection stays with the worker that accepted it.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';

const APP = ['--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython(), '--disable-logging'];
const started: RunningBerth[] = [];
after(async () => {
  await Promise.all(started.map((b) => b.stop()));
});

/** Berth on the test app with `processes` workers of `threads` serving threads each. */
async function berthWith(processes: number, threads: number): Promise<RunningBerth> {
  const b = await startBerth(['--http', '127.0.0.1:0', ...APP, '--processes', String(processes), '--threads', String(threads)]);
  started.push(b);
  return b;
}

/** A kept connection that sends GETs and reads the `via=… pid=N` line of each answer. */
class Kept {
  readonly socket: Socket;
  #text = '';
  #waiter: (() => void) | null = null;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (t: string) => {
      this.#text += t;
      this.#waiter?.();
    });
    this.socket.on('close', () => this.#waiter?.());
    this.socket.on('error', () => undefined);
  }

  /** The pid that served `path` (and whether on the direct path), waiting up to `ms`. */
  async get(path: string, ms = 10_000): Promise<{ pid: number; via: string }> {
    const start = this.#text.length;
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
    const deadline = Date.now() + ms;
    for (;;) {
      const m = /via=(\S+) pid=(\d+)/.exec(this.#text.slice(start));
      if (m !== null) return { via: m[1]!, pid: Number(m[2]) };
      if (this.socket.destroyed || Date.now() > deadline) throw new Error(`no answer to ${path}: ${JSON.stringify(this.#text.slice(start, start + 200))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.#waiter = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  end(): void {
    this.socket.destroy();
  }
}

function split(pids: number[]): number[] {
  const counts = new Map<number, number>();
  for (const p of pids) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts.values()].sort((a, b) => a - b);
}

/** One burst of 32 kept connections opened at once: null if each worker holds 12–20 of them, served directly; else what was seen. */
async function burstSplit(b: RunningBerth): Promise<string | null> {
  const clients = Array.from({ length: 32 }, () => new Kept(b.port));
  try {
    // Each sends at once and then keeps asking, as a load generator's connections do.
    const first = await Promise.all(clients.map((c) => c.get('/one')));
    for (let i = 0; i < 5; i++) await Promise.all(clients.map((c) => c.get('/again')));
    const last = await Promise.all(clients.map((c) => c.get('/last')));
    if (!last.every((a) => a.via === 'direct')) return `not every connection stayed with a worker: ${last.map((a) => a.via).join(',')}`;
    if (last.some((a, i) => a.pid !== first[i]!.pid)) return 'a kept connection moved between workers';
    const counts = split(last.map((a) => a.pid));
    if (counts.length !== 2 || counts[0]! < 12 || counts[1]! > 20) return `split ${counts.join('/')} of 32`;
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    for (const c of clients) c.end();
  }
}

test('32 kept connections opened at once spread over 2 workers: each holds 12–20, in every round', async () => {
  const b = await berthWith(2, 1);
  for (let round = 0; round < 3; round++) {
    const seen = await burstSplit(b);
    if (seen === null) continue;
    // The shares give up deferring when no sibling accepted for 10 ms (a sibling stuck or dead must
    // not hold the backlog), and a loaded machine can keep a runnable sibling from its core that
    // long: then one worker rightly takes the burst. So an uneven round is tried once more; code
    // that does not spread connections fails both (4/28 before the shares).
    const again = await burstSplit(b);
    assert.equal(again, null, `round ${round}: ${seen}; tried again: ${again}`);
  }
});

test('a worker over its share still accepts when its sibling is stuck in a long request', async () => {
  const b = await berthWith(2, 1);
  const held = Array.from({ length: 8 }, () => new Kept(b.port));
  const pids = await Promise.all(held.map((c) => c.get('/hold')));
  // Find a connection of each worker; put one worker in a 20 s request.
  const stuckPid = pids[0]!.pid;
  const stuck = held[0]!;
  const sleeping = stuck.get('/sleep?s=8', 30_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  const fresh = Array.from({ length: 12 }, () => new Kept(b.port));
  try {
    const answers = await Promise.all(fresh.map((c) => c.get('/fresh', 5_000)));
    assert.ok(answers.every((a) => a.pid !== stuckPid), 'the stuck worker answered nothing meanwhile');
    assert.ok(answers.every((a) => a.via === 'direct'), `served by the free worker: ${answers.map((a) => a.via).join(',')}`);
  } finally {
    for (const c of [...held, ...fresh]) c.end();
    await sleeping;
  }
});

test('one worker serves every connection (no shares, nothing deferred)', async () => {
  const b = await berthWith(1, 2);
  const clients = Array.from({ length: 24 }, () => new Kept(b.port));
  try {
    const answers = await Promise.all(clients.map((c) => c.get('/solo', 5_000)));
    assert.equal(new Set(answers.map((a) => a.pid)).size, 1);
    assert.equal(answers.length, 24);
    assert.ok(answers.every((a) => a.via === 'direct'), `every one served by the worker, none deferred to the master: ${answers.map((a) => a.via).join(',')}`);
  } finally {
    for (const c of clients) c.end();
  }
});
