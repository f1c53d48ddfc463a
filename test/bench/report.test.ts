// The slow-clients share: fast req/s with slow clients ÷ the mean of the runs before and after them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineRps } from '../../bench/lib/report.js';
import type { Measurement } from '../../bench/lib/measure.js';
import type { WrkResult } from '../../bench/lib/wrk.js';

function wrk(rps: number): WrkResult {
  return { rps } as WrkResult;
}

function measurement(extra: Partial<Measurement>): Measurement {
  return { scenario: 'slow-clients', server: 'berth', round: 1, ok: true, peakRssKb: 0, peakPssKb: 0, leftovers: [], ...extra };
}

test('the baseline is the mean of the runs before and after the slow clients', () => {
  assert.equal(baselineRps(measurement({ baseline: wrk(1000), baselineAfter: wrk(800) })), 900);
});

test('a measurement with only the run before (older results) uses that one', () => {
  assert.equal(baselineRps(measurement({ baseline: wrk(1000) })), 1000);
});
