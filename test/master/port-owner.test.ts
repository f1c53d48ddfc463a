/**
 * Who holds an address: /proc/net parsing on fixed text, then real listeners — in this process,
 * in a child program, a unix socket, and a real Berth with a pidfile.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProcAddress, describeAddressInUse, explainBindError, findAddressOwner, parseProcNetTcp, parseProcNetUnix } from '../../src/master/port-owner.js';
import { bindListener } from '../../src/server/listeners.js';
import { BerthError } from '../../src/errors/berth-error.js';
import type { ListenAddress } from '../../src/config/schema.js';
import { APPS, debianPython, startBerth } from '../helpers/berth.js';

const tcp = (host: string, port: number): ListenAddress => ({ kind: 'tcp', host, port, text: `${host.includes(':') ? `[${host}]` : host}:${port}` });

function listen(server: Server, options: { host?: string; port?: number; path?: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => resolve());
  });
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

test('decodeProcAddress: little-endian IPv4 words and compressed IPv6', () => {
  assert.equal(decodeProcAddress('0100007F'), '127.0.0.1');
  assert.equal(decodeProcAddress('00000000'), '0.0.0.0');
  assert.equal(decodeProcAddress('00000000000000000000000000000000'), '::');
  assert.equal(decodeProcAddress('00000000000000000000000001000000'), '::1');
  assert.equal(decodeProcAddress('0000000000000000FFFF00000100007F'), '::ffff:7f00:1');
  assert.equal(decodeProcAddress('B80D0120000000000000000001000000'), '2001:db8::1');
});

test('parseProcNetTcp keeps LISTEN sockets only; parseProcNetUnix keeps listening ones only', () => {
  const tcpText = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000 100 0 0 10 0',
    '   1: 0100007F:1F40 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000 20 4 30 10 -1',
  ].join('\n');
  assert.deepEqual(parseProcNetTcp(tcpText), [{ host: '127.0.0.1', port: 8000, inode: 4242 }]);
  const unixText = [
    'Num       RefCount Protocol Flags    Type St Inode Path',
    '0000000000000000: 00000002 00000000 00010000 0001 01 777 /run/site sock.sock',
    '0000000000000000: 00000003 00000000 00000000 0001 03 778 /run/site sock.sock',
  ].join('\n');
  assert.deepEqual(parseProcNetUnix(unixText), [{ inode: 777, path: '/run/site sock.sock' }]);
});

test('a TCP listener in this process: found with our pid; the message says the address is configured twice', async (t) => {
  const server = createServer();
  t.after(() => server.close());
  await listen(server, { host: '127.0.0.1', port: 0 });
  const address = tcp('127.0.0.1', portOf(server));
  const owner = findAddressOwner(address);
  assert.ok(owner !== null);
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.bound, address.text);
  assert.match(describeAddressInUse(address), new RegExp(`configured twice: this Berth \\(pid ${process.pid}\\)`));
  // Seen from any other pid, it is a program to stop.
  const other = describeAddressInUse(address, -1);
  assert.ok(other.startsWith(`address ${address.text} is already in use by pid ${process.pid} (`), other);
  assert.ok(other.includes(`'kill -TERM ${process.pid}'`), other);
});

test('a listener on every interface (::) explains a failed bind on 127.0.0.1 of the same port', async (t) => {
  const server = createServer();
  t.after(() => server.close());
  await listen(server, { host: '::', port: 0 });
  const owner = findAddressOwner(tcp('127.0.0.1', portOf(server)));
  assert.ok(owner !== null);
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.bound, `[::]:${portOf(server)}`);
  assert.match(describeAddressInUse(tcp('127.0.0.1', portOf(server)), -1), new RegExp(` on \\[::\\]:${portOf(server)} — `));
});

test('a real EADDRINUSE from bindListener, held by another program: the explained error names its pid and command', async (t) => {
  const script = "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port))";
  const holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => holder.kill('SIGKILL'));
  const port = Number(await new Promise<string>((r) => holder.stdout!.setEncoding('utf8').once('data', r)));
  const address = tcp('127.0.0.1', port);
  const err = await bindListener(address, 16, () => undefined).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof BerthError);
  const explained = explainBindError(err, address);
  assert.ok(explained instanceof BerthError);
  assert.equal(explained.code, 'BERTH_BIND_FAILED');
  assert.match(explained.message, new RegExp(`address 127\\.0\\.0\\.1:${port} is already in use by pid ${holder.pid} \\(.*node -e .*\\) — stop it \\('kill -TERM ${holder.pid}'`));
  assert.equal(explained.cause, err);
});

test('other bind errors pass through explainBindError unchanged', () => {
  const plain = new BerthError('BERTH_BIND_FAILED', 'permission denied', { cause: Object.assign(new Error('x'), { code: 'EACCES' }) });
  assert.equal(explainBindError(plain, tcp('127.0.0.1', 80)), plain);
  const other = new Error('boom');
  assert.equal(explainBindError(other, tcp('127.0.0.1', 80)), other);
});

test('a unix socket: found by path with our pid; a live socket refused by listeners.ts is explained', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-owner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'app.sock');
  const server = createServer();
  t.after(() => server.close());
  await listen(server, { path });
  const address: ListenAddress = { kind: 'unix', path, text: path };
  const owner = findAddressOwner(address);
  assert.ok(owner !== null);
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.bound, path);
  const err = await bindListener(address, 16, () => undefined).then(() => null, (e: unknown) => e);
  const explained = explainBindError(err, address, -1);
  assert.ok(explained instanceof BerthError);
  assert.match(explained.message, new RegExp(`unix socket ${path} is already in use by pid ${process.pid} .* or pick another path`));
});

test('a free address has no owner; the fallback message says how to look', async () => {
  const probe = createServer();
  await listen(probe, { host: '127.0.0.1', port: 0 });
  const port = portOf(probe);
  await new Promise((r) => probe.close(r));
  assert.equal(findAddressOwner(tcp('127.0.0.1', port)), null);
  assert.match(describeAddressInUse(tcp('127.0.0.1', port)), new RegExp(`ss -ltnp 'sport = :${port}'`));
});

test('held by a Berth started with a pidfile: the fix is berth --stop <that pidfile>', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-owner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pidfile = join(dir, 'site.pid');
  const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'hello', '--python', debianPython(), '--pidfile', pidfile]);
  t.after(() => berth.stop());
  const message = describeAddressInUse(tcp('127.0.0.1', berth.port), -1);
  assert.ok(message.includes(`in use by pid ${berth.proc.pid} (berth --http 127.0.0.1:0`), message);
  assert.ok(message.includes(`'berth --stop ${pidfile}' or 'kill -TERM ${berth.proc.pid}'`), message);
});
