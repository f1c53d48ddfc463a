// The slow-clients share: each run with slow clients ÷ the mean of its neighbours without, averaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineRps, keptPct } from '../../bench/lib/report.js';
import type { Measurement } from '../../bench/lib/measure.js';
import type { WrkResult } from '../../bench/lib/wrk.js';

function wrk(rps: number): WrkResult {
  return { rps } as WrkResult;
}

function measurement(extra: Partial<Measurement>): Measurement {
  return { scenario: 'slow-clients', server: 'berth', round: 1, ok: true, peakRssKb: 0, peakPssKb: 0, leftovers: [], ...extra };
}

test('the baseline is the mean of every run without slow clients', () => {
  assert.equal(baselineRps(measurement({ fastOnly: [wrk(1000), wrk(800), wrk(900)] })), 900);
});

test('each run with slow clients is divided by the mean of its own neighbours, and the shares averaged', () => {
  // Pass 1: 900 ÷ mean(1000, 800) = 100 %; pass 2: 765 ÷ mean(800, 1000) = 85 %.
  const m = measurement({ fastOnly: [wrk(1000), wrk(800), wrk(1000)], withSlow: [wrk(900), wrk(765)] });
  assert.equal(keptPct(m), 92.5);
});

test('one pass: the run with slow clients against the mean of the runs before and after', () => {
  assert.equal(keptPct(measurement({ fastOnly: [wrk(1000), wrk(800)], withSlow: [wrk(810)] })), 90);
});
