/** Kept responses: the same bytes as the writer's full path, one Buffer per Date second, the full path for any other request. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { KeptResponse } from '../../src/server/kept-response.js';
import { HttpResponseWriter, type Output } from '../../src/server/http-response-writer.js';
import { JOIN_LIMIT } from '../../src/server/joined-responses.js';

const DATE_1 = 'Sat, 21 Nov 2026 00:00:00 GMT';
const DATE_2 = 'Sat, 21 Nov 2026 00:00:01 GMT';
const FIELDS = ['Content-Type', 'text/css', 'Content-Length', '12', 'ETag', '"1-c"'];

/** What a writer emits for one request, as latin1 text, and whether it asked to close. */
function emitted(req: { method: string; versionMinor: 0 | 1; keepAlive: boolean }, send: (w: HttpResponseWriter) => void, draining = false): { text: string; close: boolean | null; pieces: (Buffer | string)[] } {
  const pieces: (Buffer | string)[] = [];
  let close: boolean | null = null;
  const out: Output = { date: DATE_1, emit: (d) => void pieces.push(d), complete: (c) => void (close = c), cut: () => undefined, log: () => undefined };
  send(new HttpResponseWriter(out, { ...req, target: '/s.css' }, () => draining));
  return { text: pieces.map((p) => (typeof p === 'string' ? p : p.toString('latin1'))).join(''), close, pieces };
}

test('a kept response sends exactly what sendFull sends, for every kind of request', () => {
  const body = Buffer.from('static bytes');
  const kept = new KeptResponse('200 OK', FIELDS, body);
  const requests = [
    { method: 'GET', versionMinor: 1, keepAlive: true },
    { method: 'GET', versionMinor: 1, keepAlive: false },
    { method: 'GET', versionMinor: 0, keepAlive: true },
    { method: 'GET', versionMinor: 0, keepAlive: false },
    { method: 'HEAD', versionMinor: 1, keepAlive: true },
  ] as const;
  for (const req of requests) {
    for (const draining of [false, true]) {
      const viaKept = emitted(req, (w) => w.sendKept(kept), draining);
      const viaFull = emitted(req, (w) => w.sendFull('200 OK', FIELDS, body, true), draining);
      assert.equal(viaKept.text, viaFull.text, `${req.method} 1.${req.versionMinor} keep-alive=${req.keepAlive} draining=${draining}`);
      assert.equal(viaKept.close, viaFull.close);
    }
  }
});

test('a plain keep-alive GET gets one Buffer per Date second, never rewritten in place', () => {
  const kept = new KeptResponse('200 OK', FIELDS, Buffer.from('static bytes'));
  const first = kept.wireAt(DATE_1);
  assert.ok(first?.joined);
  const before = Buffer.from(first.joined);
  assert.equal(kept.wireAt(DATE_1), first, 'the same second: the same bytes');
  const { pieces } = emitted({ method: 'GET', versionMinor: 1, keepAlive: true }, (w) => w.sendKept(kept));
  assert.equal(pieces.length, 1, 'one write');
  assert.equal(pieces[0], first.joined, 'the kept Buffer itself, no copy');
  const second = kept.wireAt(DATE_2);
  assert.ok(second?.joined);
  assert.notEqual(second.joined, first.joined);
  assert.deepEqual(first.joined, before, 'a socket may still hold the old Buffer');
  assert.match(second.joined.toString('latin1'), /\r\nDate: Sat, 21 Nov 2026 00:00:01 GMT\r\n\r\nstatic bytes$/);
});

test('a long body is not joined: its head goes out with the body in one pair', () => {
  const body = Buffer.alloc(JOIN_LIMIT + 1, 0x61);
  const kept = new KeptResponse('200 OK', ['Content-Type', 'text/plain', 'Content-Length', String(body.length)], body);
  const wire = kept.wireAt(DATE_1);
  assert.equal(wire?.joined, null);
  assert.match(wire!.head, /^HTTP\/1\.1 200 OK\r\n.*Content-Length: 16385\r\nDate: .*\r\n\r\n$/s);
});

test('fields that do not frame the body by its length leave it to the full path', () => {
  const body = Buffer.from('abc');
  assert.equal(new KeptResponse('200 OK', ['Content-Length', '4'], body).wireAt(DATE_1), null, 'a length that is not the body');
  assert.equal(new KeptResponse('200 OK', ['Content-Length', '3', 'Connection', 'close'], body).wireAt(DATE_1), null, 'the producer asks to close');
  assert.equal(new KeptResponse('200 OK', ['Content-Type', 'text/plain'], body).wireAt(DATE_1), null, 'no length: chunked');
});
