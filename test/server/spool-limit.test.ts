/**
 * spool-limit: what all spooled request bodies may keep on disk together, across both fronts.
 * Real Berth, echo app: one upload holds most of the budget while it trickles in; the next one,
 * on the HTTP port or the uwsgi socket, gets 503 naming the option before its body is read; once
 * the first is done its space is back. A chunked upload is refused when it reaches the cap.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { APPS, debianPython, startBerth } from '../helpers/berth.js';
import { exchangeRaw, openSocket } from '../helpers/raw-http.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';

const MIB = 1024 * 1024;

function uwsgiPost(length: number): Buffer {
  return encodeUwsgiRequest([
    'REQUEST_METHOD', 'POST', 'REQUEST_URI', '/body-sha256', 'PATH_INFO', '/body-sha256', 'QUERY_STRING', '',
    'SERVER_PROTOCOL', 'HTTP/1.1', 'SERVER_NAME', 'site', 'SERVER_PORT', '80', 'CONTENT_LENGTH', String(length),
  ]);
}

test('spool-limit: an upload that does not fit beside the others gets 503 at once, on either front; space comes back', async (t) => {
  const berth = await startBerth(['--http', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--uwsgi-direct=false', '--chdir', APPS, '--module', 'echo',
    '--python', debianPython(), '--processes', '1', '--spool-limit', '3M']);
  t.after(() => berth.stop());
  const socketPort = Number(/listening on .*uwsgi:\/\/127\.0\.0\.1:(\d+)/.exec(berth.logs())?.[1]);
  assert.ok(socketPort > 0, berth.logs());

  // The first upload: 2 MiB declared, half of it sent, then it waits. 100-continue says its head was taken.
  const body = Buffer.alloc(2 * MIB, 'a');
  const first = await openSocket(berth.port);
  t.after(() => first.destroy());
  let answer = '';
  first.setEncoding('latin1').on('data', (d: string) => (answer += d));
  first.write(`POST /body-sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
  await new Promise<void>((resolve) => first.on('data', () => answer.includes('100 Continue') && resolve()));
  first.write(body.subarray(0, MIB));

  const refused = await exchangeRaw(berth.port, `POST /body-sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 * MIB}\r\n\r\n`);
  assert.match(refused.text, /^HTTP\/1\.1 503 /);
  assert.match(refused.text, /\r\nConnection: close\r\n/i);
  assert.match(refused.text, /spool-limit/);
  const viaUwsgi = await exchangeRaw(socketPort, uwsgiPost(2 * MIB));
  assert.match(viaUwsgi.text, /^HTTP\/1\.[01] 503 /);
  assert.match(viaUwsgi.text, /spool-limit/);
  assert.match(berth.logs(), /upload refused from 127\.0\.0\.1:\d+: .*spool-limit.* \(answered 503\)/);
  const small = await exchangeRaw(berth.port, 'POST /body-sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsmall');
  assert.match(small.text, /^HTTP\/1\.1 200 /, 'a body that stays in memory needs no spool space');

  const closed = new Promise<void>((resolve) => first.on('close', () => resolve()));
  first.write(body.subarray(MIB));
  await closed;
  assert.match(answer, /HTTP\/1\.1 200 /);
  assert.match(answer, new RegExp(createHash('sha256').update(body).digest('hex')));

  const after = await exchangeRaw(berth.port, Buffer.concat([Buffer.from(`POST /body-sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
  assert.match(after.text, /^HTTP\/1\.1 200 /, 'the first upload gave its space back');
});

test('spool-limit: a chunked upload is refused with 503 when it reaches the cap, and gives its space back', async (t) => {
  const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--processes', '1', '--spool-limit', '2M']);
  t.after(() => berth.stop());
  const chunk = Buffer.alloc(65536, 'z');
  const parts = [Buffer.from('POST /body-sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')];
  for (let i = 0; i < 48; i++) parts.push(Buffer.from('10000\r\n'), chunk, Buffer.from('\r\n')); // 3 MiB
  parts.push(Buffer.from('0\r\n\r\n'));
  const refused = await exchangeRaw(berth.port, Buffer.concat(parts));
  assert.match(refused.text, /^HTTP\/1\.1 503 /);
  assert.match(refused.text, /\r\nConnection: close\r\n[\s\S]*spool-limit/);
  const body = Buffer.alloc(2 * MIB - 1, 'b');
  const fits = await exchangeRaw(berth.port, Buffer.concat([Buffer.from(`POST /body-sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
  assert.match(fits.text, /^HTTP\/1\.1 200 /, 'the refused upload gave back what it took');
  assert.match(fits.text, new RegExp(createHash('sha256').update(body).digest('hex')));
});
