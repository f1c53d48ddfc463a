/**
 * `berth top` as a command: its usage, an argument that is neither address nor pidfile, stale
 * pidfiles, a running Berth without a stats server (the error says what to add), and one frame
 * printed when stdout is not a terminal, read from a real stats-shaped server.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, debianPython, echoBerths, runBerth } from '../helpers/berth.js';
import { freePort } from '../helpers/nginx.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-top-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const berth = echoBerths();

test('no argument: the usage, exit 2', async () => {
  const r = await runBerth(['top']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /usage: berth top ADDRESS\|PIDFILE/);
});

test('an argument that is neither an address nor a pidfile says what both look like', async () => {
  const r = await runBerth(['top', 'nonsense']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /'nonsense' is neither a stats address nor a pidfile — berth top ADDRESS\|PIDFILE — ADDRESS is the 'stats' option's value/);
});

test('a stale pidfile: nothing to watch, and why', async () => {
  const pidfile = join(dir, 'stale.pid');
  writeFileSync(pidfile, '999999999\n');
  const r = await runBerth(['top', pidfile]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the pidfile .*stale\.pid is stale \(/);
});

test("a running Berth without a stats server: the error names the option to add and the command to rerun", async () => {
  const pidfile = join(dir, 'running.pid');
  const running = await berth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--pidfile', pidfile]);
  const r = await runBerth(['top', pidfile]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`the Berth running as pid ${running.proc.pid} \\(pidfile .*running\\.pid\\) has no stats server: add 'stats = 127\\.0\\.0\\.1:9191' to its configuration, reload it, then run 'berth top .*running\\.pid' again`));
});

test('stdout not a terminal: one frame, no escape sequences; exit 1 when nothing answers', async (t) => {
  const server = createServer((s) => s.end(JSON.stringify({ version: '2.0.21', pid: 7, workers: [{ id: 1, pid: 4242, requests: 9, status: 'idle' }] })));
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const r = await runBerth(['top', `127.0.0.1:${port}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ +1 +4242 idle +9 /m);
  assert.doesNotMatch(r.stdout, /\x1b/);
  const refused = await runBerth(['top', `127.0.0.1:${await freePort()}`]);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /connection refused/);
});
