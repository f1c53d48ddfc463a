import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, body, heads, packet, parseEveryWay, rawPacket, run } from './feed.js';
import { UwsgiRequestParser } from '../../../src/protocol/uwsgi/request-parser.js';

test('whole packet: head, body and end, identical in every slicing', () => {
  const events = assertAccepted(packet(['REQUEST_METHOD', 'POST', 'PATH_INFO', '/upload', 'CONTENT_LENGTH', '11'], 'hello world'));
  assert.deepEqual(events.map((e) => e.type), ['head', 'body', 'end']);
  const [head] = heads(events);
  assert.deepEqual(head?.vars, ['REQUEST_METHOD', 'POST', 'PATH_INFO', '/upload', 'CONTENT_LENGTH', '11']);
  assert.equal(head?.contentLength, 11);
  assert.equal(head?.modifier1, 0);
  assert.equal(head?.modifier2, 0);
  assert.equal(body(events), 'hello world');
});

test('whole packet: varsBytes is the datasize field', () => {
  const input = packet(['A', 'bc']);
  const [head] = heads(assertAccepted(input));
  assert.equal(head?.varsBytes, 2 + 1 + 2 + 2);
  assert.equal(head?.varsBytes, input.length - 4);
});

test('whole packet: no body without CONTENT_LENGTH', () => {
  const events = assertAccepted(packet(['REQUEST_METHOD', 'GET']));
  assert.deepEqual(events.map((e) => e.type), ['head', 'end']);
  assert.equal(heads(events)[0]?.contentLength, 0);
});

test('whole packet: an empty vars block (datasize 0) is a request with no vars', () => {
  const events = assertAccepted(rawPacket(Buffer.alloc(0)));
  assert.deepEqual(heads(events)[0]?.vars, []);
  assert.equal(heads(events)[0]?.varsBytes, 0);
  // The head is complete after exactly 4 bytes: no later byte is needed to emit it.
  assert.deepEqual(run([Buffer.from([0, 0, 0, 0])]).map((e) => e.type), ['head', 'end']);
});

test('whole packet: empty values are kept, including the last one', () => {
  const events = assertAccepted(packet(['QUERY_STRING', '', 'CONTENT_TYPE', '', 'X', '']));
  assert.deepEqual(heads(events)[0]?.vars, ['QUERY_STRING', '', 'CONTENT_TYPE', '', 'X', '']);
});

test('whole packet: keys and values are decoded as latin1, byte for byte', () => {
  const raw = Buffer.from([0xc3, 0xa9, 0x00, 0xff, 0x80]);
  const events = assertAccepted(packet(['PATH_INFO', raw.toString('latin1'), 'K\u00ff', 'v']));
  const vars = heads(events)[0]?.vars ?? [];
  assert.deepEqual(Buffer.from(vars[1] ?? '', 'latin1'), raw);
  assert.equal(vars[2], 'K\u00ff');
});

test('whole packet: duplicate keys are all kept, in order (the front decides)', () => {
  const events = assertAccepted(packet(['HTTP_X', 'one', 'HTTP_X', 'two']));
  assert.deepEqual(heads(events)[0]?.vars, ['HTTP_X', 'one', 'HTTP_X', 'two']);
});

test('whole packet: body chunks are views into the input, not copies', () => {
  const input = packet(['CONTENT_LENGTH', '5'], 'abcde');
  const bodies: Buffer[] = [];
  const parser = new UwsgiRequestParser(
    { onHead: () => {}, onBody: (b) => bodies.push(b), onMessageEnd: () => {}, onError: (e) => assert.fail(e) },
    { maxVarsBytes: 4096, maxBodyBytes: 0 },
  );
  parser.execute(input);
  assert.equal(bodies.length, 1);
  assert.equal(bodies[0]?.buffer, input.buffer);
  assert.equal(bodies[0]?.byteOffset, input.byteOffset + input.length - 5);
  // A chunk that is all body is passed on as is.
  const second = new UwsgiRequestParser(
    { onHead: () => {}, onBody: (b) => bodies.push(b), onMessageEnd: () => {}, onError: (e) => assert.fail(e) },
    { maxVarsBytes: 4096, maxBodyBytes: 0 },
  );
  second.execute(input.subarray(0, input.length - 5));
  const tail = Buffer.from('abcde');
  second.execute(tail);
  assert.equal(bodies[1], tail);
});

test('whole packet: a body of 256 KiB arrives intact in pieces', () => {
  const big = Buffer.alloc(256 * 1024, 'z');
  const events = run([packet(['CONTENT_LENGTH', String(big.length)]), big.subarray(0, 1000), big.subarray(1000)]);
  assert.equal(body(events).length, big.length);
  assert.equal(events[events.length - 1]?.type, 'end');
});

test('whole packet: parser state follows the packet', () => {
  const parser = new UwsgiRequestParser({ onHead: () => {}, onBody: () => {}, onMessageEnd: () => {}, onError: () => {} }, { maxVarsBytes: 4096, maxBodyBytes: 0 });
  assert.equal(parser.state, 'idle');
  const input = packet(['CONTENT_LENGTH', '2'], 'ab');
  parser.execute(input.subarray(0, 2));
  assert.equal(parser.state, 'head');
  parser.execute(input.subarray(2, 6));
  assert.equal(parser.state, 'head');
  parser.execute(input.subarray(6, input.length - 1));
  assert.equal(parser.state, 'body');
  parser.execute(input.subarray(input.length - 1));
  assert.equal(parser.state, 'done');
  parser.execute(Buffer.from('x'));
  assert.equal(parser.state, 'error');
});

test('whole packet: finish() on a connection that sent nothing is not an error', () => {
  assert.deepEqual(run([], undefined, true), []);
  assert.deepEqual(parseEveryWay(Buffer.alloc(0), undefined, true), []);
});
