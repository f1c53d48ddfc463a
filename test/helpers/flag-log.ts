/** Preloaded with --import: appends each flag the process sets through node:v8's setFlagsFromString to BERTH_TEST_FLAG_LOG. */
import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const out = process.env.BERTH_TEST_FLAG_LOG;
if (out !== undefined) {
  // Not inherited by anything the master spawns.
  delete process.env.BERTH_TEST_FLAG_LOG;
  delete process.env.NODE_OPTIONS;
  const v8 = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  const set = v8.setFlagsFromString;
  v8.setFlagsFromString = (flags: string): void => {
    appendFileSync(out, `${flags}\n`);
    set(flags);
  };
  // ES modules that import { setFlagsFromString } from 'node:v8' see the wrapper too.
  syncBuiltinESMExports();
}
