/**
 * A bounded differential fuzz of both fronts against real Berths with real Python workers:
 * mutated HTTP/1.1 requests to an `http` port (the TS parser in the master), and the same
 * mutated uwsgi packets to a socket served by the master (uwsgi-direct = false) and to one
 * the workers accept on (the Python parser). The seed is printed; FUZZ_SEED=<n> replays a
 * run, FUZZ_COUNT=<n> sets the inputs per protocol. Oracles: bench/lib/fuzz/judge.ts.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { runCampaign } from '../../bench/lib/fuzz/campaign.js';
import { describeFinding, judgeCampaign, type Finding, type FindingCategory } from '../../bench/lib/fuzz/judge.js';
import { forgedLines, readAppCalls } from '../../bench/lib/fuzz/observe.js';
import { processTree } from '../../bench/lib/proc.js';
import { randomSeed } from '../../bench/lib/fuzz/prng.js';

const SEED = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : randomSeed();
const COUNT = Number(process.env['FUZZ_COUNT'] ?? 1500);
const TIMEOUT_S = 2;
/** A connection still open this long after its last byte was sent is a hang. */
const DEADLINE_MS = TIMEOUT_S * 1000 + 4000;
const LIMITS = { headBytes: 8192, bodyBytes: 100_000 };

const dir = mkdtempSync(join(tmpdir(), 'berth-fuzz-'));
const servers: RunningBerth[] = [];
let findings: readonly Finding[] = [];
let inputs = 0;
let invalidInputs = 0;
const treesBefore: number[][] = [];
const treesAfter: number[][] = [];
const logs: string[] = [];

function berthArgs(listen: readonly string[], record: string): string[] {
  return [
    ...listen, '--chdir', APPS, '--module', 'fuzz_record', '--processes', '2', '--threads', '2',
    '--python', debianPython(), '--env', `FUZZ_RECORD=${record}`,
    '--buffer-size', String(LIMITS.headBytes), '--limit-post', String(LIMITS.bodyBytes),
    '--http-timeout', String(TIMEOUT_S), '--socket-timeout', String(TIMEOUT_S),
  ];
}

const RECORDS = { http: join(dir, 'http.jsonl'), uwsgiMaster: join(dir, 'uwsgi-master.jsonl'), uwsgiDirect: join(dir, 'uwsgi-direct.jsonl') };

before(async () => {
  console.log(`fronts fuzz: seed ${SEED}, ${COUNT} inputs per protocol (replay: FUZZ_SEED=${SEED} FUZZ_COUNT=${COUNT})`);
  servers.push(
    ...(await Promise.all([
      startBerth(berthArgs(['--http', '127.0.0.1:0'], RECORDS.http)),
      startBerth(berthArgs(['--socket', '127.0.0.1:0', '--uwsgi-direct=false'], RECORDS.uwsgiMaster)),
      startBerth(berthArgs(['--socket', '127.0.0.1:0'], RECORDS.uwsgiDirect)),
    ])),
  );
  for (const s of servers) treesBefore.push(processTree(s.proc.pid!).sort((a, b) => a - b));
  const [http, master, direct] = servers as [RunningBerth, RunningBerth, RunningBerth];
  const result = await runCampaign({ http: http.port, uwsgiMaster: master.port, uwsgiDirect: direct.port }, { seed: SEED, firstId: 0, count: COUNT, deadlineMs: DEADLINE_MS });
  for (const s of servers) treesAfter.push(processTree(s.proc.pid!).sort((a, b) => a - b));
  // Stopped before judging: a graceful stop waits for in-flight requests, so every app call is recorded.
  for (const s of servers) await s.stop();
  for (const s of servers) logs.push(s.logs());
  const judged = judgeCampaign(result, { http: readAppCalls(RECORDS.http), uwsgiMaster: readAppCalls(RECORDS.uwsgiMaster), uwsgiDirect: readAppCalls(RECORDS.uwsgiDirect) }, LIMITS);
  findings = judged.findings;
  inputs = judged.inputs;
  invalidInputs = judged.invalidInputs;
  console.log(`fronts fuzz: seed ${SEED}: ${inputs} inputs sent (${invalidInputs} invalid by the TS codecs), ${findings.length} finding(s)`);
});

after(async () => {
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

function of(category: FindingCategory): string[] {
  return findings.filter((f) => f.category === category).map((f) => describeFinding(SEED, f));
}

test('the campaign sent inputs, valid and invalid', () => {
  assert.equal(inputs, COUNT * 3);
  assert.ok(invalidInputs > COUNT / 4, `only ${invalidInputs} of ${inputs} inputs were invalid (seed ${SEED}): the mutations are too weak`);
});

test('no crash: master and workers are the same processes after the fuzz', () => {
  assert.deepEqual(treesAfter, treesBefore, `seed ${SEED}`);
  for (const tree of treesBefore) assert.ok(tree.length >= 3, `a master and 2 workers expected, saw pids ${tree.join(',')}`);
});

test('no hang: every connection is answered or closed within the timeouts', () => {
  assert.deepEqual(of('hang'), []);
});

test('no malformed response on any front', () => {
  assert.deepEqual(of('malformed-response'), []);
});

test('the app is never called on input the TS codecs reject', () => {
  assert.deepEqual(of('app-called-on-invalid'), []);
});

test('the master path and the direct path agree on the same uwsgi bytes', () => {
  assert.deepEqual(of('paths-disagree'), []);
});

test('unmutated inputs are served', () => {
  assert.deepEqual(of('valid-input-failed'), []);
});

test('HTTP front: no peer bytes start a log line', () => {
  assert.deepEqual(forgedLines(logs[0] ?? ''), [], `seed ${SEED}`);
});

test('uwsgi direct path: a truncated body never reaches the app', () => {
  assert.deepEqual(of('direct-truncated-body'), []);
});

test('uwsgi fronts: no peer bytes start a log line', () => {
  assert.deepEqual([...forgedLines(logs[1] ?? ''), ...forgedLines(logs[2] ?? '')], [], `seed ${SEED}`);
});

test('the master path and the direct path answer the same uwsgi bytes alike', () => {
  assert.deepEqual(of('paths-answer-differently'), []);
});

test('uwsgi direct path: a request the app ran is answered, as on the master path', () => {
  assert.deepEqual(of('direct-app-ran-unanswered'), []);
});
