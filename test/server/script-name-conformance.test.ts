/**
 * test/fixtures/conformance/script-name.json against the master's mountpoint rule (the
 * workers' direct paths run the same table in test/python/test_conformance.py).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadTable } from '../helpers/conformance.js';
import { ScriptNameRule } from '../../src/server/script-name.js';

interface ScriptNameCase {
  readonly name: string;
  readonly why: string;
  readonly mounts: readonly string[];
  readonly path: string;
  readonly expect: readonly [string, string];
}

const table = loadTable<ScriptNameCase>('script-name.json');

for (const c of table.cases) {
  test(`script-name ${c.name}: ${c.why}`, () => {
    const rule = new ScriptNameRule(c.mounts.map((prefix) => ({ prefix, app: 'app' })));
    assert.deepEqual(rule.active ? rule.split(c.path) : ['', c.path], c.expect);
  });
}
