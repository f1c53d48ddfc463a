/**
 * The HTTP request rulebook (test/fixtures/conformance/http-request-heads.json) against the
 * master's codec, fed whole and one byte at a time, with the environ the master's block gives:
 * as an object here, and through the worker's own vars → environ code (test/python/vars_environ.py,
 * one Python process). test/python/test_conformance.py runs the same table against the worker's
 * parser and the direct path's environ (python/berth_runtime/http_request.py, http_direct_request.py).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { feeds, tsCgiBlock, tsVerdict, type EnvironFacts, type Verdict } from '../../../bench/lib/http-diff/verdict.js';
import { loadTable, readTable } from '../../helpers/conformance.js';

interface TableConnection {
  readonly local_address: string;
  readonly local_port: number;
  readonly remote_address: string;
  readonly remote_port: number;
}

interface HeadCase {
  readonly name: string;
  readonly why: string;
  readonly rfc: string;
  readonly request: string;
  readonly max_head?: number;
  readonly max_body?: number;
  readonly connection?: TableConnection;
  readonly mounts?: readonly string[];
  readonly expect: Verdict;
}

const table = loadTable<HeadCase>('http-request-heads.json');
const tableConnection = readTable<{ readonly connection: TableConnection }>('http-request-heads.json').connection;

function factsOf(c: HeadCase): EnvironFacts {
  const conn = c.connection ?? tableConnection;
  return {
    connection: { localAddress: conn.local_address, localPort: conn.local_port, remoteAddress: conn.remote_address, remotePort: conn.remote_port, scheme: 'http' },
    mounts: c.mounts ?? [],
  };
}

const limitsOf = (c: HeadCase) => ({ maxHeadBytes: c.max_head ?? 8192, maxBodyBytes: c.max_body ?? 0 });

for (const c of table.cases) {
  test(`request head rulebook: ${c.name} (RFC ${c.rfc}: ${c.why})`, () => {
    const { whole, byByte } = feeds(Buffer.from(c.request, 'latin1'));
    assert.deepEqual(tsVerdict(whole, limitsOf(c), factsOf(c)), c.expect, 'whole');
    assert.deepEqual(tsVerdict(byByte, limitsOf(c), factsOf(c)), c.expect, 'byte by byte');
  });
}

test(`request head rulebook: the master path gives each case's environ (its block through the worker's environ.build_environ)`, () => {
  const cases = table.cases.filter((c) => typeof c.expect === 'object' && 'environ' in c.expect && !('status' in (c.expect.environ as object)));
  const blocks = cases.map((c) => tsCgiBlock(Buffer.from(c.request, 'latin1'), limitsOf(c), factsOf(c)));
  const input = blocks.map((block) => JSON.stringify({ block }) + '\n').join('');
  const peer = join(process.cwd(), 'test', 'python', 'vars_environ.py');
  const run = spawnSync('python3', ['-I', peer], { input, encoding: 'utf8' });
  assert.equal(run.status, 0, `python3 ${peer} failed: ${run.stderr}`);
  const environs = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
  assert.equal(environs.length, cases.length);
  cases.forEach((c, i) => {
    assert.deepEqual(environs[i], (c.expect as { readonly environ: unknown }).environ, c.name);
  });
});

test('request head rulebook: every case names its RFC section, and both verdicts occur', () => {
  assert.ok(table.cases.every((c) => /^91(10|12) §/.test(c.rfc)));
  assert.ok(table.cases.some((c) => 'status' in (c.expect as object)));
  assert.ok(table.cases.some((c) => typeof c.expect === 'object' && 'method' in c.expect));
});
