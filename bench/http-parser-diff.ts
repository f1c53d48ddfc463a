/**
 * The long run of the differential fuzz of the two HTTP request parsers (the master's codec and
 * the worker's parser): `node dist/bench/http-parser-diff.js --seed S --count N [--python P]`.
 * Prints the verdicts seen and every disagreement; exits 1 when there is one.
 */
import { parseArgs } from 'node:util';
import { randomSeed } from './lib/fuzz/prng.js';
import { describeDisagreement, runDiff } from './lib/http-diff/compare.js';
import { readTable } from '../test/helpers/conformance.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    count: { type: 'string', default: '100000' },
    python: { type: 'string', default: 'python3' },
    'by-byte-every': { type: 'string', default: '10' },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) : randomSeed();
const count = Number(values.count);
const table = readTable<{ cases: { request: string }[] }>('http-request-heads.json');
const started = performance.now();
const report = await runDiff({ seed, count, python: values.python, byByteEvery: Number(values['by-byte-every']), tableRequests: table.cases.map((c) => c.request) });
const seconds = (performance.now() - started) / 1000;
console.log(`seed ${seed}: ${report.inputs} inputs in ${seconds.toFixed(1)} s; TypeScript verdicts ${JSON.stringify(report.verdicts)}, environs compared ${report.environs}`);
for (const d of report.disagreements.slice(0, 20)) console.log(describeDisagreement(d));
console.log(`${report.disagreements.length} disagreement(s)`);
process.exitCode = report.disagreements.length === 0 ? 0 : 1;
