/**
 * Loads a conformance table (test/fixtures/conformance/*.json): the cases one rule must meet
 * in both languages, run by this suite and by test/python/test_conformance.py.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONFORMANCE_DIR = join(process.cwd(), 'test', 'fixtures', 'conformance');

export interface ConformanceTable<C> {
  readonly about: string;
  readonly cases: readonly C[];
}

/** A table file as it is (for the tables that are not a list of cases). */
export function readTable<T>(file: string): T {
  return JSON.parse(readFileSync(join(CONFORMANCE_DIR, file), 'utf8')) as T;
}

export function loadTable<C extends { readonly name: string; readonly why: string }>(file: string): ConformanceTable<C> {
  const table = readTable<ConformanceTable<C>>(file);
  const names = new Set<string>();
  for (const c of table.cases) {
    if (typeof c.why !== 'string' || c.why === '') throw new Error(`${file}: case ${c.name} has no why`);
    if (names.has(c.name)) throw new Error(`${file}: two cases are named ${c.name}`);
    names.add(c.name);
  }
  return table;
}
