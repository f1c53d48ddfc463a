/**
 * uid / gid / umask with real processes (the suite runs as root): the workers and, once its
 * sockets are bound, the master run as the configured user; a user that does not exist stops
 * the start with a message naming the option.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import { startBerth, runBerth } from '../helpers/berth.js';
import { readableCopy } from '../helpers/readable-copy.js';
import { get, makeOpsSite } from './ops-helpers.js';

function idsOf(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)![1]) };
}

const nobody = (): { uid: number; gid: number } => {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'));
  if (line === undefined) throw new Error('this test needs the user nobody in /etc/passwd');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
};

/**
 * Once the master is nobody it still spawns workers (lazy-apps, respawns), so Berth's own files
 * must be readable by nobody — true for an installed Berth. A readable copy of bin/, dist/src/,
 * python/, package.json and the one runtime dependency (prom-client, with its own) is a whole install.
 */
const BERTH_PARTS = ['bin', 'dist/src', 'python', 'package.json', 'node_modules/prom-client', 'node_modules/tdigest', 'node_modules/bintrees', 'node_modules/@opentelemetry'];

test('must run as root to test privilege dropping', () => {
  assert.equal(process.getuid?.(), 0, 'the test suite runs as root (scripts/test.sh installs packages with apt); run it with sudo');
});

for (const mode of ['preload', 'lazy-apps'] as const) {
  test(`${mode}: uid, gid and umask apply to the workers and to the master after binding`, async (t) => {
    const site = makeOpsSite(['uid = nobody', 'gid = nogroup', 'umask = 027', ...(mode === 'lazy-apps' ? ['lazy-apps = true'] : [])]);
    t.after(site.remove);
    chmodSync(site.dir, 0o755);
    const install = readableCopy(BERTH_PARTS);
    t.after(install.remove);
    const berth = await startBerth(['--ini', site.ini], { bin: install.path('bin/berth.js') });
    t.after(() => berth.stop());
    const who = await get(berth.url('/whoami'));
    const n = nobody();
    const m = /uid (\d+) gid (\d+) umask (\d+)/.exec(who.text)!;
    assert.equal(Number(m[1]), n.uid, 'worker uid');
    assert.equal(m[3], '027', 'worker umask');
    assert.equal(idsOf(berth.proc.pid!).uid, n.uid, 'master uid after binding');
    assert.match(berth.logs(), /master now runs as uid \d+/);
  });
}

test('an unknown uid stops the start with the option named', async (t) => {
  const site = makeOpsSite(['uid = no-such-user-berth']);
  t.after(site.remove);
  const r = await runBerth(['--ini', site.ini]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /uid.*no-such-user-berth/);
});
