/**
 * A bounded differential fuzz of the two HTTP request parsers: the same generated and mutated
 * inputs to the master's codec and to the worker's parser (one Python process), whole and, for
 * every 10th input, one byte at a time; the verdicts must be the same, and for an accepted
 * request the environ each path builds from it (bench/lib/http-diff/compare.ts). The seed is printed;
 * FUZZ_SEED=<n> replays a run, FUZZ_COUNT=<n> sets the number of inputs. The long run is
 * bench/http-parser-diff.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomSeed } from '../../bench/lib/fuzz/prng.js';
import { describeDisagreement, runDiff } from '../../bench/lib/http-diff/compare.js';
import { readTable } from '../helpers/conformance.js';

const SEED = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : randomSeed();
const COUNT = Number(process.env['FUZZ_COUNT'] ?? 3000);

test(`the TypeScript and Python HTTP parsers agree on ${COUNT} fuzzed requests (FUZZ_SEED=${SEED})`, async (t) => {
  const table = readTable<{ cases: { request: string }[] }>('http-request-heads.json');
  const report = await runDiff({ seed: SEED, count: COUNT, python: 'python3', byByteEvery: 10, tableRequests: table.cases.map((c) => c.request) });
  t.diagnostic(`seed ${SEED}: verdicts ${JSON.stringify(report.verdicts)}, environs compared ${report.environs}`);
  assert.equal(report.inputs, COUNT);
  assert.ok(report.environs > COUNT / 20, 'too few environs compared');
  // The generator must reach both sides of the rules, or agreeing proves little.
  assert.ok((report.verdicts['parsed'] ?? 0) > COUNT / 20, 'too few inputs parsed');
  assert.ok((report.verdicts['400'] ?? 0) > COUNT / 20, 'too few inputs refused');
  assert.deepEqual(report.disagreements.slice(0, 5).map(describeDisagreement), [], `FUZZ_SEED=${SEED}`);
});
