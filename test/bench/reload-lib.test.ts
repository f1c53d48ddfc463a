// Pure parts of the reload/respawn benches: wrk's report with every error kind,
// the reload schedule, and the failure line picked from a server's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrk } from '../../bench/lib/wrk.js';
import { reloadSchedule, whyFailed } from '../../bench/lib/reload-run.js';

const REPORT = `Running 3s test @ http://127.0.0.1:18599/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    14.67ms    2.21ms    1.20s    78.06%
    Req/Sec   546.68     46.24   676.00     76.67%
  Latency Distribution
     50%   14.20ms
     75%   15.80ms
     90%   17.10ms
     99%   22.40ms
  3262 requests in 3.01s, 6.66MB read
  Socket errors: connect 1, read 320, write 17483, timeout 7
  Non-2xx or 3xx responses: 5
Requests/sec:   1087.52
Transfer/sec:      2.21MB
`;

test('parseWrk keeps each socket error kind, non-2xx answers and the max latency apart', () => {
  const r = parseWrk(REPORT);
  assert.deepEqual(r.socket, { connect: 1, read: 320, write: 17483, timeout: 7 });
  assert.equal(r.non2xx, 5);
  assert.equal(r.maxMs, 1200);
  assert.equal(r.requests, 3262);
  // The summed figure run.ts shows is unchanged: connect + write + timeout + non-2xx.
  assert.equal(r.errors, 1 + 17483 + 7 + 5);
  assert.equal(r.readErrors, 320);
});

test('parseWrk reports zero errors when wrk prints no error lines', () => {
  const r = parseWrk(REPORT.replace(/^ {2}(Socket errors|Non-2xx).*\n/gm, ''));
  assert.deepEqual(r.socket, { connect: 0, read: 0, write: 0, timeout: 0 });
  assert.equal(r.non2xx, 0);
});

test('reloadSchedule spreads the reloads evenly and keeps the tail free', () => {
  assert.deepEqual(reloadSchedule(25, 5, 10), [1000, 3000, 5000, 7000, 9000, 11000, 13000, 15000, 17000, 19000]);
  const last = reloadSchedule(8, 3, 3).at(-1)!;
  assert.ok(last < 5000, `last reload at ${last} ms must leave the 3 s tail`);
});

test('whyFailed picks the line that gives the reason', () => {
  const out = 'berth: could not start\n  app: module = x\n  reason: touch-chain-reload is not supported yet\n  python: /usr/bin/python3\n';
  assert.equal(whyFailed(out), 'reason: touch-chain-reload is not supported yet');
  assert.equal(whyFailed('a\nb\nc'), 'a | b | c');
});
