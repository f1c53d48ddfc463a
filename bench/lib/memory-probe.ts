// Preloaded into a Berth master by bench/memory.ts (NODE_OPTIONS=--import): every second it writes
// where the process's memory goes — process.memoryUsage() and V8's heap spaces — to the file
// named by BERTH_MEMORY_PROBE_OUT, so the bench can print the breakdown. No loader hooks: they
// would start a thread and distort what is measured.

import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const out = process.env.BERTH_MEMORY_PROBE_OUT;
if (out !== undefined) {
  // Not inherited by anything the master spawns.
  delete process.env.BERTH_MEMORY_PROBE_OUT;
  delete process.env.NODE_OPTIONS;
  setInterval(() => {
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, size: s.space_size, physical: s.physical_space_size }]));
    const heap = getHeapStatistics();
    writeFileSync(out, JSON.stringify({ usage: process.memoryUsage(), spaces, mallocedBytes: heap.malloced_memory, externalBytes: heap.external_memory }));
  }, 1000).unref();
}
