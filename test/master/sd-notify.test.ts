/**
 * systemd's notify protocol with a real Berth and a real unix datagram socket (a Python receiver,
 * since Node cannot bind one): READY=1 only once a request to the app succeeds, RELOADING=1 with
 * MONOTONIC_USEC then READY=1 at a reload (and after a refused one), STOPPING=1 at SIGTERM,
 * WATCHDOG=1 at half of WATCHDOG_USEC; an abstract-namespace address; the workers never see
 * NOTIFY_SOCKET; WATCHDOG_PID naming another process means no WATCHDOG=1.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { debianPython, startBerth } from '../helpers/berth.js';
import { freePort } from '../helpers/nginx.js';
import { takeNotifyEnvironment } from '../../src/master/sd-notify.js';

/** Binds a unix datagram socket and prints each datagram as a JSON line with its CLOCK_MONOTONIC arrival in µs. */
const RECEIVER = `
import json, socket, sys, time
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print(json.dumps({'bound': True}), flush=True)
while True:
    data = s.recv(4096)
    print(json.dumps({'at': time.monotonic_ns() // 1000, 'fields': data.decode().split('\\n')}), flush=True)
`;

interface Datagram {
  readonly at: number;
  readonly fields: readonly string[];
}

class Receiver {
  readonly proc: ChildProcess;
  readonly got: Datagram[] = [];
  #waiters: { match: (d: Datagram) => boolean; resolve: (d: Datagram) => void; from: number }[] = [];
  readonly bound: Promise<void>;

  constructor(address: string) {
    this.proc = spawn(debianPython(), ['-c', RECEIVER, address], { stdio: ['ignore', 'pipe', 'inherit'] });
    let boundResolve: () => void = () => undefined;
    this.bound = new Promise((resolve) => (boundResolve = resolve));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as { bound?: boolean } & Datagram;
      if (parsed.bound === true) return boundResolve();
      this.got.push(parsed);
      for (const w of [...this.#waiters]) this.#check(w);
    });
  }

  /** The first datagram from index `from` on that matches; resolves with it. */
  next(match: (d: Datagram) => boolean, from = 0, timeoutMs = 30_000): Promise<Datagram> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching datagram; got:\n${this.got.map((d) => d.fields.join(' | ')).join('\n')}`)), timeoutMs);
      const w = { match, from, resolve: (d: Datagram) => (clearTimeout(timer), resolve(d)) };
      this.#waiters.push(w);
      this.#check(w);
    });
  }

  #check(w: { match: (d: Datagram) => boolean; resolve: (d: Datagram) => void; from: number }): void {
    const d = this.got.slice(w.from).find(w.match);
    if (d === undefined) return;
    this.#waiters = this.#waiters.filter((x) => x !== w);
    w.resolve(d);
  }

  stop(): void {
    this.proc.kill('SIGTERM');
  }
}

const has = (field: string) => (d: Datagram): boolean => d.fields.includes(field);

function makeSite(port: number, extra: readonly string[] = []): { dir: string; ini: string; app(body: string): void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sdnotify-'));
  const ini = join(dir, 'site.ini');
  const app = (body: string): void => writeFileSync(join(dir, 'notified.py'), body);
  app(`import os, time\ntime.sleep(0.3)\ndef application(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [('v1 NOTIFY_SOCKET=%s' % os.environ.get('NOTIFY_SOCKET', '-')).encode()]\n`);
  writeFileSync(ini, ['[uwsgi]', `http = 127.0.0.1:${port}`, `chdir = ${dir}`, 'module = notified', `python = ${debianPython()}`, 'processes = 2', ...extra, ''].join('\n'));
  return { dir, ini, app };
}

test('READY=1 once a request succeeds; RELOADING=1 + MONOTONIC_USEC then READY=1 at SIGHUP, also after a refused reload; STOPPING=1 at SIGTERM; WATCHDOG=1', async (t) => {
  const port = await freePort();
  const site = makeSite(port);
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const socketPath = join(site.dir, 'notify.sock');
  const receiver = new Receiver(socketPath);
  t.after(() => receiver.stop());
  await receiver.bound;
  const berth = await startBerth(['--ini', site.ini], { waitReady: false, portless: true, env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000' } });
  t.after(() => berth.stop('SIGKILL'));

  const ready = await receiver.next(has('READY=1'));
  // Right when READY arrives, the app answers (nothing was waited for in between).
  const answer = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(answer.status, 200);
  assert.equal(await answer.text(), 'v1 NOTIFY_SOCKET=-', 'the worker does not see NOTIFY_SOCKET');
  assert.ok(ready.fields.includes(`MAINPID=${berth.proc.pid}`), `MAINPID is the master's: ${ready.fields.join(' | ')}`);
  assert.match(ready.fields.find((f) => f.startsWith('STATUS='))!, /^STATUS=serving: 2 worker\(s\), [\d.]+ req\/s, generation 1$/);
  assert.ok(berth.logs().includes('all 2 worker(s) ready'), 'READY=1 comes with "all N worker(s) ready"');
  const readyIndex = receiver.got.indexOf(ready);
  assert.equal(receiver.got.slice(0, readyIndex).filter(has('READY=1')).length, 0);

  const watchdog = await receiver.next(has('WATCHDOG=1'));
  assert.deepEqual(watchdog.fields, ['WATCHDOG=1']);

  site.app(`def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'v2']\n`);
  let from = receiver.got.length;
  berth.proc.kill('SIGHUP');
  const reloading = await receiver.next(has('RELOADING=1'), from);
  const usec = Number(reloading.fields.find((f) => f.startsWith('MONOTONIC_USEC='))!.slice('MONOTONIC_USEC='.length));
  assert.ok(usec <= reloading.at && usec > reloading.at - 60_000_000, `MONOTONIC_USEC ${usec} is CLOCK_MONOTONIC, just before its arrival at ${reloading.at}`);
  const reloaded = await receiver.next(has('READY=1'), receiver.got.indexOf(reloading));
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'v2', 'READY=1 after the reload: the new generation serves');
  assert.match(reloaded.fields.join(' | '), /STATUS=serving: 2 worker\(s\), [\d.]+ req\/s, generation 2/);

  site.app('import no_such_module_for_berth\n');
  from = receiver.got.length;
  berth.proc.kill('SIGHUP');
  const second = await receiver.next(has('RELOADING=1'), from);
  const refused = await receiver.next(has('READY=1'), receiver.got.indexOf(second));
  assert.match(refused.fields.join(' | '), /STATUS=reload refused: .*generation 2 (keeps serving|serves)/);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'v2');

  from = receiver.got.length;
  const stopped = berth.stop('SIGTERM');
  const stopping = await receiver.next(has('STOPPING=1'), from);
  assert.ok(stopping.fields.includes(`MAINPID=${berth.proc.pid}`));
  assert.equal((await stopped).code, 0);
});

test('an abstract-namespace NOTIFY_SOCKET works; WATCHDOG_PID naming another process means no WATCHDOG=1', async (t) => {
  const port = await freePort();
  const site = makeSite(port, ['processes = 1']);
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const address = `@berth-test-${process.pid}-${Date.now()}`;
  const receiver = new Receiver(address);
  t.after(() => receiver.stop());
  await receiver.bound;
  const berth = await startBerth(['--ini', site.ini], { waitReady: false, portless: true, env: { NOTIFY_SOCKET: address, WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' } });
  t.after(() => berth.stop('SIGKILL'));
  await receiver.next(has('READY=1'));
  assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
  // Several heartbeats' worth: the master's STATUS= lines keep coming, WATCHDOG=1 never does.
  await receiver.next((d) => d.fields.length === 1 && d.fields[0]!.startsWith('STATUS='));
  const stopped = berth.stop('SIGTERM');
  await receiver.next(has('STOPPING=1'));
  assert.equal((await stopped).code, 0);
  assert.deepEqual(receiver.got.filter(has('WATCHDOG=1')), []);
  assert.match(berth.logs(), /sd_notify: NOTIFY_SOCKET=@berth-test-/);
});

test('the notify variables leave the environment; WATCHDOG=1 at half of WATCHDOG_USEC only when WATCHDOG_PID is unset or ours', () => {
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', PATH: '/bin' };
  assert.deepEqual(takeNotifyEnvironment(env, 42), { socket: '/run/systemd/notify', watchdogMs: 15000 });
  assert.deepEqual(env, { PATH: '/bin' }, 'workers and side programs inherit none of them');
  assert.deepEqual(takeNotifyEnvironment({ NOTIFY_SOCKET: '@abstract', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '42' }, 42), { socket: '@abstract', watchdogMs: 1000 });
  assert.deepEqual(takeNotifyEnvironment({ NOTIFY_SOCKET: '@abstract', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '7' }, 42), { socket: '@abstract', watchdogMs: null });
  assert.equal(takeNotifyEnvironment({ WATCHDOG_USEC: '2000000' }, 42), null);
  assert.equal(takeNotifyEnvironment({ NOTIFY_SOCKET: 'vsock:2:1234' }, 42), null, 'only unix addresses (a path or @abstract)');
});

test('a stuck master stops sending WATCHDOG=1 (the helper only forwards), and sends it again once it runs', async (t) => {
  const port = await freePort();
  const site = makeSite(port, ['processes = 1']);
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const socketPath = join(site.dir, 'notify.sock');
  const receiver = new Receiver(socketPath);
  t.after(() => receiver.stop());
  await receiver.bound;
  const berth = await startBerth(['--ini', site.ini], { waitReady: false, portless: true, env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' } });
  t.after(() => berth.stop('SIGKILL'));
  const ready = await receiver.next(has('READY=1'));
  await receiver.next(has('WATCHDOG=1'), receiver.got.indexOf(ready) + 1);
  // The master is stopped (its loop cannot run) for ten heartbeats' worth; its helper is not.
  berth.proc.kill('SIGSTOP');
  const stoppedAt = receiver.got.length;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const whileStopped = receiver.got.slice(stoppedAt).filter(has('WATCHDOG=1')).length;
  berth.proc.kill('SIGCONT');
  await receiver.next(has('WATCHDOG=1'), receiver.got.length);
  // At most one written just before SIGSTOP and still in the pipe.
  assert.ok(whileStopped <= 1, `${whileStopped} WATCHDOG=1 while the master was stopped`);
  assert.equal((await berth.stop('SIGTERM')).code, 0);
});
