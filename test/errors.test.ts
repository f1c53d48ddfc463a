/** The error catalogue in docs/errors.md and the codes in src/errors/berth-error.ts stay in step. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../src/errors/berth-error.js';

test('every BERTH_* code is documented in docs/errors.md, and every documented code exists', () => {
  const doc = readFileSync(join(process.cwd(), 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^## (BERTH_[A-Z_]+)/gm)].map((m) => m[1]!));
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
});
