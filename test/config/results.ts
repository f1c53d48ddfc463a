/** Unwrapping a LoadResult in tests: the config (failing with the problems if there are any), or the problems as printed. */
import assert from 'node:assert/strict';
import { formatProblem, type LoadResult } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

export function ok(r: LoadResult): Config {
  if (!r.ok) assert.fail(`expected a config, got:\n${r.problems.map(formatProblem).join('\n')}`);
  return r.config;
}

export function problems(r: LoadResult): string[] {
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : r.problems.map(formatProblem);
}
