import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, assertRejected, body, heads, packet, parseEveryWay } from './feed.js';

test('CONTENT_LENGTH: empty (what nginx sends for a GET) means no body', () => {
  const events = assertAccepted(packet(['REQUEST_METHOD', 'GET', 'CONTENT_LENGTH', '']));
  assert.equal(heads(events)[0]?.contentLength, 0);
});

test('CONTENT_LENGTH: "0" means no body', () => {
  const events = assertAccepted(packet(['CONTENT_LENGTH', '0']));
  assert.deepEqual(events.map((e) => e.type), ['head', 'end']);
});

test('CONTENT_LENGTH: leading zeros are accepted', () => {
  const events = assertAccepted(packet(['CONTENT_LENGTH', '0005'], 'abcde'));
  assert.equal(heads(events)[0]?.contentLength, 5);
  assert.equal(body(events), 'abcde');
});

test('CONTENT_LENGTH: the largest exact integer is accepted when there is no body limit', () => {
  const events = parseEveryWay(packet(['CONTENT_LENGTH', '9007199254740991']), { maxVarsBytes: 4096, maxBodyBytes: 0 });
  assert.equal(heads(events)[0]?.contentLength, Number.MAX_SAFE_INTEGER);
});

test('CONTENT_LENGTH: repeated with the same value (a doubled uwsgi_param) is accepted', () => {
  const events = assertAccepted(packet(['CONTENT_LENGTH', '3', 'CONTENT_LENGTH', '3'], 'abc'));
  assert.equal(heads(events)[0]?.contentLength, 3);
  const withEmpty = assertAccepted(packet(['CONTENT_LENGTH', '', 'CONTENT_LENGTH', '0']));
  assert.equal(heads(withEmpty)[0]?.contentLength, 0);
});

test('CONTENT_LENGTH: other keys that merely look alike do not frame the body', () => {
  const events = assertAccepted(packet(['content_length', '5', 'HTTP_CONTENT_LENGTH', '5', 'CONTENT_LENGTHX', '5']));
  assert.equal(heads(events)[0]?.contentLength, 0);
});

const bad: readonly string[] = [
  '-1', '+5', ' 5', '5 ', '0x5', '1e3', '1.0', '1,1', 'five', '\u00005', '12345678901234567', '9007199254740992', '99999999999999999999',
];

for (const value of bad) {
  test(`CONTENT_LENGTH: ${JSON.stringify(value)} → bad-content-length (400)`, () => {
    const error = assertRejected(packet(['REQUEST_METHOD', 'POST', 'CONTENT_LENGTH', value], 'xxxxx'), 'bad-content-length');
    assert.equal(error.type === 'error' && error.status, 400);
  });
}

test('CONTENT_LENGTH: two different values are refused (two framings of one body)', () => {
  assertRejected(packet(['CONTENT_LENGTH', '3', 'CONTENT_LENGTH', '5'], 'abcde'), 'bad-content-length');
  assertRejected(packet(['CONTENT_LENGTH', '', 'CONTENT_LENGTH', '5'], 'abcde'), 'bad-content-length');
});
