/** mustWait: which pipelined requests may start now (RFC 9112 §9.3.2, RFC 9110 §9.2.1). */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mustWait, type PipelineEntry } from '../../src/server/pipeline-order.js';
import { isSafeMethod } from '../../src/protocol/http1/methods.js';

/** 'G' safe, 'P' unsafe; lowercase = completed. */
function queue(spec: string): PipelineEntry[] {
  return [...spec].map((c) => ({ safe: c.toUpperCase() === 'G', completed: c === c.toLowerCase() }));
}
function unsafeOpen(q: readonly PipelineEntry[]): number {
  return q.filter((e) => !e.safe && !e.completed).length;
}

const cases: [spec: string, index: number, waits: boolean][] = [
  ['P', 0, false],
  ['GP', 1, true],
  ['gP', 1, false],
  ['GGG', 2, false],
  ['PG', 1, true],
  ['pG', 1, false],
  ['GPG', 2, true],
  ['gpG', 2, false],
  ['PP', 1, true],
  ['GgP', 2, true],
  ['PGgG', 3, true],
  ['GPGP', 3, true],
];
for (const [spec, index, waits] of cases) {
  test(`queue ${spec}: entry ${index} ${waits ? 'waits' : 'may start'}`, () => {
    const q = queue(spec);
    assert.equal(mustWait(q, q[index]!, unsafeOpen(q)), waits);
  });
}

test('safe methods are GET, HEAD, OPTIONS, TRACE, case-sensitively', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) assert.equal(isSafeMethod(m), true, m);
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'CONNECT', 'get', 'Head', 'PROPFIND']) assert.equal(isSafeMethod(m), false, m);
});
