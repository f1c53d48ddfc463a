// Tests the master's compaction of its old generation: dead objects' pages are given back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { compactOldGeneration, IdleCompaction } from '../../src/master/idle-compaction.js';

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

test('the idle compaction compacts once when started (start-up garbage), and stop() ends its checks', () => {
  const garbage = oldGarbage();
  const withGarbage = oldSpacePhysical();
  garbage.drop();
  const compaction = new IdleCompaction();
  compaction.start();
  try {
    const after = oldSpacePhysical();
    assert.ok(withGarbage - after >= 12 * MiB, `old space ${(withGarbage / MiB).toFixed(1)} MiB → ${(after / MiB).toFixed(1)} MiB after start()`);
  } finally {
    compaction.stop();
  }
});
