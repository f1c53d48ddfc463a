/**
 * `berth top` in a real terminal: tmux (80×24) runs it against a real uWSGI's stats server
 * (Debian uwsgi, 2 processes), and by its pidfile against a real Berth's. The screen must show both workers with their pids, the request
 * count must move after traffic, `q` must exit with code 0 and give the terminal back, and an
 * address nothing answers yet must show a clear message and keep retrying until it answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, BERTH_BIN, debianPython, startBerth } from '../helpers/berth.js';
import { freePort } from '../helpers/nginx.js';
import { startUwsgi, type RunningUwsgi } from '../helpers/uwsgi.js';

const TMUX = '/usr/bin/tmux';
/** A tmux server of our own (-S, in a directory removed afterwards): it never touches anyone's sessions and is killed whole. */
const SOCKET_DIR = mkdtempSync(join(tmpdir(), 'berth-top-tmux-'));
const SERVER = join(SOCKET_DIR, 'tmux.sock');

after(() => rmSync(SOCKET_DIR, { recursive: true, force: true }));

function tmux(...args: string[]): string {
  return execFileSync(TMUX, ['-S', SERVER, ...args], { encoding: 'utf8' });
}

function screen(session: string): string {
  return tmux('capture-pane', '-p', '-t', session);
}

/** Polls the pane until `ok` holds (top redraws every second); fails with the last screen. */
async function waitForScreen(session: string, ok: (text: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < until) {
    text = screen(session);
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}; the screen was:\n${text}`);
}

/** uWSGI's worker pids, read from its stats server directly (not through the code under test). */
function workerPids(address: string): Promise<number[]> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), host!);
    let text = '';
    s.setEncoding('utf8').on('data', (t: string) => void (text += t));
    s.on('end', () => resolve((JSON.parse(text) as { workers: { pid: number }[] }).workers.map((w) => w.pid)));
    s.on('error', reject);
  });
}

function startTop(session: string, address: string): void {
  // The shell stays after top exits so the test can read its exit code on the screen.
  tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', `${process.execPath} ${BERTH_BIN} top ${address}; echo "top exited with $?"; exec sleep 600`);
}

function totalRequests(text: string): number {
  const line = text.split('\n').find((l) => l.startsWith('all '));
  assert.ok(line !== undefined, `no totals row on the screen:\n${text}`);
  return Number(line.trim().split(/\s+/)[1]);
}

describe('berth top in tmux against a real uWSGI', () => {
  let uwsgi: RunningUwsgi;
  before(async () => {
    if (!existsSync(TMUX)) throw new Error(`${TMUX} is missing: install Debian's tmux (sudo bash scripts/install-test-deps.sh)`);
    uwsgi = await startUwsgi(join(APPS, 'hello.py'), 2);
  });
  after(async () => {
    try {
      tmux('kill-server');
    } catch {
      // no session was started
    }
    await uwsgi?.stop();
  });

  test('shows the two workers and their pids, counts traffic, and q exits cleanly', async () => {
    const pids = await workerPids(uwsgi.stats);
    assert.equal(pids.length, 2);
    startTop('top1', uwsgi.stats);
    const first = await waitForScreen('top1', (t) => pids.every((p) => t.includes(String(p))) && /^all /m.test(t), 'both worker pids and the totals row should appear');
    assert.match(first, /WID +PID STATUS +REQ +REQ\/S/);
    for (const pid of pids) assert.match(first, new RegExp(`^ +[12] +${pid} (idle|busy) `, 'm'));
    assert.match(first, /version 2\.0\.\d+/);
    for (const line of first.split('\n')) assert.ok(line.length < 80, `line wider than 79 columns: ${JSON.stringify(line)}`);
    const before = totalRequests(first);
    await uwsgi.traffic(40);
    const moved = await waitForScreen('top1', (t) => totalRequests(t) >= before + 40, `the request count should rise from ${before} by 40`);
    assert.match(moved, /^all +\d+ +\d+\.\d /m, 'req/s is a number once two reads exist');
    tmux('send-keys', '-t', 'top1', 'q');
    const after = await waitForScreen('top1', (t) => /top exited with \d+/.test(t), 'top should exit on q');
    assert.match(after, /top exited with 0/);
    assert.doesNotMatch(after, /WID +PID/, 'the alternate screen was left: the frame is gone');
  });

  test('an address nothing answers yet: a clear message, retries, then the workers', async () => {
    const port = await freePort();
    startTop('top2', `127.0.0.1:${port}`);
    await waitForScreen('top2', (t) => /cannot read stats from 127\.0\.0\.1:\d+: connection refused/.test(t) && /retrying/.test(t), 'a refused connection should be explained');
    const late = await startUwsgi(join(APPS, 'hello.py'), 2, { statsPort: port });
    try {
      const pids = await workerPids(late.stats);
      await waitForScreen('top2', (t) => pids.every((p) => t.includes(String(p))), 'top should keep retrying and show the workers once the server answers');
    } finally {
      await late.stop();
    }
    tmux('send-keys', '-t', 'top2', 'q');
    await waitForScreen('top2', (t) => /top exited with 0/.test(t), 'top should still exit on q');
  });
});

describe('berth top PIDFILE against a real Berth', () => {
  after(() => {
    try {
      tmux('kill-server');
    } catch {
      // no session was started
    }
  });

  test('finds the stats address from the pidfile, shows Berth\'s workers and counts its requests', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-top-pidfile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const statsPort = await freePort();
    const pidfile = join(dir, 'berth.pid');
    const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'hello', '--python', debianPython(), '--processes', '2', '--stats', `127.0.0.1:${statsPort}`, '--pidfile', pidfile]);
    t.after(() => berth.stop());
    const pids = await workerPids(`127.0.0.1:${statsPort}`);
    assert.equal(pids.length, 2);
    startTop('top3', pidfile);
    const first = await waitForScreen('top3', (text) => pids.every((p) => text.includes(String(p))) && /^all /m.test(text), 'Berth\'s worker pids and the totals row should appear');
    for (const line of first.split('\n')) assert.ok(line.length < 80, `line wider than 79 columns: ${JSON.stringify(line)}`);
    const before = totalRequests(first);
    for (let i = 0; i < 30; i++) assert.equal((await fetch(berth.url('/'))).status, 200);
    await waitForScreen('top3', (text) => totalRequests(text) >= before + 30, `the request count should rise from ${before} by 30`);
    tmux('send-keys', '-t', 'top3', 'q');
    await waitForScreen('top3', (text) => /top exited with 0/.test(text), 'top should exit on q');
  });
});
