/** The response writer in memory: framing, cut/short bodies, HEAD, 304, errors after the head. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { HttpResponseWriter, type Output } from '../../src/server/http-response-writer.js';
import { JoinedResponses } from '../../src/server/joined-responses.js';

class MemoryOutput implements Output {
  text = '';
  completed: boolean | null = null;
  wasCut = false;
  logs: string[] = [];
  readonly date = 'Sat, 21 Nov 2026 00:00:00 GMT';
  emit(data: Buffer | string, flushed?: () => void): void {
    this.text += typeof data === 'string' ? data : data.toString('latin1');
    flushed?.();
  }
  complete(close: boolean): void {
    this.completed = close;
  }
  cut(): void {
    this.wasCut = true;
  }
  log(_level: 'warn' | 'error', message: string): void {
    this.logs.push(message);
  }
}

function writer(method = 'GET', versionMinor: 0 | 1 = 1, keepAlive = true): [HttpResponseWriter, MemoryOutput] {
  const out = new MemoryOutput();
  return [new HttpResponseWriter(out, { method, target: '/t', versionMinor, keepAlive }, () => false), out];
}

test('a whole body gets an exact Content-Length and keeps the connection', () => {
  const [w, out] = writer();
  w.sendFull('200 OK', ['Content-Type', 'text/plain'], Buffer.from('hello'));
  assert.match(out.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(out.text, /Content-Length: 5\r\n/);
  assert.ok(out.text.endsWith('\r\n\r\nhello'));
  assert.equal(out.completed, false);
});

test('304 and 204 get no invented Content-Length and no body', () => {
  for (const status of ['304 Not Modified', '204 No Content']) {
    const [w, out] = writer();
    w.sendFull(status, ['ETag', '"x"'], Buffer.alloc(0));
    assert.doesNotMatch(out.text, /content-length/i, status);
    assert.ok(out.text.endsWith('\r\n\r\n'));
  }
});

test('HEAD keeps the Content-Length of the body it does not send', () => {
  const [w, out] = writer('HEAD');
  w.sendFull('200 OK', [], Buffer.from('0123456789'));
  assert.match(out.text, /Content-Length: 10\r\n/);
  assert.ok(out.text.endsWith('\r\n\r\n'));
});

test('streamed body without length is chunked for HTTP/1.1, zero-length pieces skipped', () => {
  const [w, out] = writer();
  w.sendHead('200 OK', []);
  w.sendBody(Buffer.from('ab'), () => undefined);
  w.sendBody(Buffer.alloc(0), () => undefined);
  w.sendBody(Buffer.from('cde'), () => undefined);
  w.sendEnd();
  assert.ok(out.text.endsWith('\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n'), JSON.stringify(out.text));
  assert.match(out.text, /Transfer-Encoding: chunked/);
});

test('streamed body longer than its Content-Length is cut there and the connection closed', () => {
  const [w, out] = writer();
  w.sendHead('200 OK', ['Content-Length', '4']);
  w.sendBody(Buffer.from('0123456'), () => undefined);
  assert.ok(out.text.endsWith('\r\n\r\n0123'));
  assert.equal(out.completed, true, 'closes after');
  assert.match(out.logs.join('\n'), /more body bytes/);
});

test('streamed body shorter than its Content-Length cuts the connection', () => {
  const [w, out] = writer();
  w.sendHead('200 OK', ['Content-Length', '10']);
  w.sendBody(Buffer.from('01234'), () => undefined);
  w.sendEnd();
  assert.equal(out.wasCut, true);
  assert.match(out.logs.join('\n'), /5 of the 10 bytes/);
});

test('an invalid head becomes a 500 and nothing of it reaches the output', () => {
  const [w, out] = writer();
  assert.equal(w.sendHead('200 OK', ['X-Evil', 'a\r\nSet-Cookie: x=1']), false);
  assert.match(out.text, /^HTTP\/1\.1 500 /);
  assert.doesNotMatch(out.text, /Set-Cookie/);
});

test('an error after the head cuts instead of sending a second head', () => {
  const [w, out] = writer();
  w.sendHead('200 OK', []);
  w.sendError(500, 'boom');
  assert.equal(out.wasCut, true);
  assert.equal((out.text.match(/HTTP\/1\.1/g) ?? []).length, 1);
});

test('HTTP/1.0 streamed body is close-delimited and announced', () => {
  const [w, out] = writer('GET', 0, false);
  w.sendHead('200 OK', []);
  w.sendBody(Buffer.from('xy'), () => undefined);
  w.sendEnd();
  assert.match(out.text, /Connection: close/);
  assert.ok(out.text.endsWith('\r\n\r\nxy'));
  assert.equal(out.completed, true);
});

test('a shared body is joined to its head once and the same bytes are emitted again; others are joined afresh', () => {
  const joined = new JoinedResponses();
  const emitted: (Buffer | string)[] = [];
  const body = Buffer.from('static bytes');
  const send = (shared: boolean, b = body): void => {
    const out = new MemoryOutput();
    const capture: Output = { date: out.date, joined, emit: (d) => void emitted.push(d), complete: () => undefined, cut: () => undefined, log: () => undefined };
    new HttpResponseWriter(capture, { method: 'GET', target: '/t', versionMinor: 1, keepAlive: true }, () => false).sendFull('200 OK', ['Content-Type', 'text/css'], b, shared);
  };
  send(true);
  send(true);
  send(false);
  assert.equal(emitted.length, 3);
  assert.equal(emitted[0], emitted[1], 'the kept bytes');
  assert.notEqual(emitted[2], emitted[0], 'not shared: a fresh buffer');
  assert.deepEqual(emitted[2], emitted[0]);
  assert.match(String((emitted[0] as Buffer).toString('latin1')), /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/css\r\nContent-Length: 12\r\n.*\r\n\r\nstatic bytes$/s);
});
