/**
 * nginx → `uwsgi_pass unix:` → Berth with the workers accepting (uwsgi-direct), and the unix
 * socket's listen queue. Linux refuses a connect() to a unix socket whose queue holds `listen`
 * connections at once (EAGAIN), and nginx answers 502: "(11: Resource temporarily
 * unavailable)" in its error log, nothing at Berth. So: a queue smaller than nginx's
 * concurrency gives 502s and Berth names `listen` in its log; a listen above it gives none,
 * under wrk's load, and the kernel holds the backlog `listen` asked for.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { requireNginx, sharedTempDir, startNginx, type RunningNginx } from '../helpers/nginx.js';

const dir = sharedTempDir('berth-listen-queue-');
const running: (RunningBerth | RunningNginx)[] = [];

before(() => {
  requireNginx();
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    // wrk --version exits 1 after printing; only a missing binary is a failure.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('wrk is missing: install it with sudo bash scripts/install-test-deps.sh');
  }
});
after(async () => {
  for (const r of running.reverse()) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function pair(name: string, args: readonly string[]): Promise<{ berth: RunningBerth; nginx: RunningNginx; sock: string }> {
  const sock = join(dir, `${name}.sock`);
  const berth = await startBerth(['--socket', sock, '--chmod-socket=666', '--chdir', APPS, '--python', debianPython(), ...args], { portless: true });
  running.push(berth);
  const nginx = await startNginx(`server { location / { include uwsgi_params; uwsgi_pass unix:${sock}; } }`);
  running.push(nginx);
  return { berth, nginx, sock };
}

test('a listen queue shorter than the requests nginx holds: nginx 502s (EAGAIN) and Berth says to raise listen', async () => {
  const { berth, nginx, sock } = await pair('short', ['--module', 'echo', '--processes', '1', '--threads', '1', '--listen', '2']);
  // One thread, each request 2 s: the queue fills (2, then the kernel's one more) and stays
  // full while the first requests run; the rest are refused at connect().
  const statuses = await Promise.all(Array.from({ length: 8 }, () => fetch(nginx.url('/sleep?s=2')).then(async (r) => (await r.arrayBuffer(), r.status))));
  assert.ok(statuses.includes(502), `some requests must find the queue full: ${statuses.join(' ')}`);
  assert.match(nginx.errorLog(), /\(11: Resource temporarily unavailable\)/);
  await berth.waitForLog(/listen queue of uwsgi socket \S+ is full \(\d+ waiting, listen = 2\)/, 10_000);
  const line = berth.logs().split('\n').find((l) => l.includes('listen queue of uwsgi socket'))!;
  assert.ok(line.includes(sock), line);
  assert.match(line, /raise listen/);
  assert.match(line, /somaxconn/);
});

// nginx's worker_connections (256) hold 112 clients and their 112 upstream connections.
test('listen above nginx\'s concurrency: no non-2xx under wrk -c112, the kernel holds that backlog, no warning', async () => {
  const { berth, nginx, sock } = await pair('wide', ['--module', 'hello', '--processes', '2', '--threads', '1', '--listen', '256']);
  const out = execFileSync('wrk', ['-t2', '-c112', '-d3s', nginx.url('/')], { encoding: 'utf8' });
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  assert.ok(requests > 0, out);
  assert.doesNotMatch(out, /Non-2xx or 3xx responses/, `${out}\nnginx error log:\n${nginx.errorLog()}`);
  assert.doesNotMatch(nginx.errorLog(), /Resource temporarily unavailable/);
  // ss -xl: for a listening unix socket Send-Q is its backlog.
  const listening = execFileSync('ss', ['-xlnH'], { encoding: 'utf8' }).split('\n').find((l) => l.includes(sock));
  assert.ok(listening !== undefined, `ss -xl does not show ${sock}`);
  assert.equal(listening.trim().split(/\s+/)[3], '256', listening);
  assert.doesNotMatch(berth.logs(), /listen queue of uwsgi socket/);
});
