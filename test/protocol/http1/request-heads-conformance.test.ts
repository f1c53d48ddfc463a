/**
 * The HTTP request rulebook (test/fixtures/conformance/http-request-heads.json) against the
 * master's codec, fed whole and one byte at a time. test/python/test_conformance.py runs the
 * same table against the worker's parser (python/berth_runtime/http_request.py).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { feeds, tsVerdict, type Verdict } from '../../../bench/lib/http-diff/verdict.js';
import { loadTable } from '../../helpers/conformance.js';

interface HeadCase {
  readonly name: string;
  readonly why: string;
  readonly rfc: string;
  readonly request: string;
  readonly max_head?: number;
  readonly max_body?: number;
  readonly expect: Verdict;
}

const table = loadTable<HeadCase>('http-request-heads.json');

for (const c of table.cases) {
  test(`request head rulebook: ${c.name} (RFC ${c.rfc}: ${c.why})`, () => {
    const limits = { maxHeadBytes: c.max_head ?? 8192, maxBodyBytes: c.max_body ?? 0 };
    const { whole, byByte } = feeds(Buffer.from(c.request, 'latin1'));
    assert.deepEqual(tsVerdict(whole, limits), c.expect, 'whole');
    assert.deepEqual(tsVerdict(byByte, limits), c.expect, 'byte by byte');
  });
}

test('request head rulebook: every case names its RFC section, and both verdicts occur', () => {
  assert.ok(table.cases.every((c) => /^91(10|12) §/.test(c.rfc)));
  assert.ok(table.cases.some((c) => 'status' in (c.expect as object)));
  assert.ok(table.cases.some((c) => typeof c.expect === 'object' && 'method' in c.expect));
});
