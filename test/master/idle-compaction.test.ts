// Tests the master's compaction of its old generation: dead objects' pages are given back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { getHeapSpaceStatistics } from 'node:v8';
import { compactOldGeneration, IDLE_UTILIZATION, IdleCompaction, idleStep } from '../../src/master/idle-compaction.js';

const MiB = 1 << 20;
const oldSpacePhysical = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.physical_space_size;

/** About 24 MiB of small objects (strings in arrays), moved to the old space by a collection while alive. */
function oldGarbage(): { drop: () => void } {
  let held: string[][] | null = Array.from({ length: 200 }, (_, i) => Array.from({ length: 2000 }, (_, j) => `row ${i} item ${j} ${'x'.repeat(24)}`));
  compactOldGeneration();
  return { drop: () => { held = null; } };
}

test('a compaction gives back the old-space pages of objects that died there', () => {
  const garbage = oldGarbage();
  const withGarbage = oldSpacePhysical();
  garbage.drop();
  compactOldGeneration();
  const after = oldSpacePhysical();
  assert.ok(withGarbage - after >= 12 * MiB, `old space ${(withGarbage / MiB).toFixed(1)} MiB → ${(after / MiB).toFixed(1)} MiB after the compaction`);
});

test('a compaction runs when a check finds the loop idle after work, once, and never while busy', () => {
  let worked = true; // start-up is work
  const verdicts: boolean[] = [];
  for (const busy of [0.9, 0.5, 0.01, 0.0, 0.3, 0.04, 0.0]) {
    const step = idleStep(worked, busy);
    worked = step.worked;
    verdicts.push(step.compact);
  }
  assert.deepEqual(verdicts, [false, false, true, false, false, true, false]);
  assert.equal(IDLE_UTILIZATION, 0.05);
});

test('the idle compaction starts and stops its checks without keeping the process alive', () => {
  const compaction = new IdleCompaction();
  compaction.start();
  compaction.start();
  compaction.stop();
  compaction.stop();
  // A process whose only work is a started compaction must end on its own (the check is unref'd).
  const module = new URL('../../src/master/idle-compaction.js', import.meta.url).href;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `const { IdleCompaction } = await import(${JSON.stringify(module)}); new IdleCompaction().start();`], { timeout: 20_000 });
  assert.equal(child.error, undefined, 'the process was kept alive by the started compaction');
  assert.equal(child.status, 0, child.stderr.toString());
});
