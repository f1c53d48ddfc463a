/**
 * The response head table (test/fixtures/conformance/response-heads.json) against the master:
 * the app's status and headers as the worker's HEAD block carries them (parseHeadBlock), then
 * planResponse. test/python/test_conformance.py runs the same table against the direct path
 * (start_response + http_head) and the framed path's encode_head.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRejection, planResponse } from '../../../src/protocol/http1/response.js';
import { parseHeadBlock } from '../../../src/protocol/worker/decode.js';
import { readTable } from '../../helpers/conformance.js';

interface HeadCase {
  readonly name: string;
  readonly why: string;
  readonly status: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly expect: 'rejected' | { readonly headers: readonly (readonly [string, string])[]; readonly body: string };
}

const table = readTable<{ date: string; cases: readonly HeadCase[] }>('response-heads.json');
const REQUEST = { method: 'GET', versionMinor: 1, keepAlive: false } as const;

type Outcome = 'rejected' | { headers: [string, string][]; body: string };

function plan(status: string, flat: readonly string[]): Outcome {
  const p = planResponse(REQUEST, status, flat, { date: table.date });
  if (isRejection(p)) return 'rejected';
  const lines = p.head.split('\r\n');
  assert.equal(lines[0], `HTTP/1.1 ${status}`);
  assert.deepEqual(lines.slice(-2), ['', ''], 'the head ends with an empty line');
  // What the server adds itself: its Date, its framing, its Connection.
  const added = new Set([`Date: ${table.date}`, 'Transfer-Encoding: chunked', 'Connection: close']);
  const headers = lines.slice(1, -2).filter((l) => !added.has(l)).map((l): [string, string] => {
    const colon = l.indexOf(': ');
    return [l.slice(0, colon), l.slice(colon + 2)];
  });
  const body = p.framing === 'length' ? `length:${p.contentLength}` : p.framing === 'none' ? 'none' : 'unframed';
  assert.notEqual(p.framing, 'close', 'an HTTP/1.1 request never gets a close-delimited body');
  return { headers, body };
}

for (const c of table.cases) {
  test(`response head conformance: ${c.name} (${c.why})`, () => {
    const flat = c.headers.flat();
    const direct = plan(c.status, flat);
    assert.deepEqual(direct, c.expect);
    // The framed path: what encode_head would send, when it can be sent at all (it refuses NUL,
    // CR, LF and non-latin1 itself; then the table must say rejected).
    const text = [c.status, ...flat].join('\0');
    const framable = ![c.status, ...flat].some((s) => /[\0\r\n]|[^\x00-\xff]/.test(s));
    if (!framable) {
      assert.equal(c.expect, 'rejected', 'the worker refuses to frame a head the table accepts');
      return;
    }
    const head = parseHeadBlock(Buffer.from(text, 'latin1'));
    assert.deepEqual(plan(head.status, head.headers), c.expect, 'through the HEAD block');
  });
}
