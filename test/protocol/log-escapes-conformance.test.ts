/**
 * test/fixtures/conformance/log-escapes.json against peer-text.ts: which characters from a peer
 * reach a log line escaped (the worker's stderr_log.py runs the same table in test_conformance.py).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadTable } from '../helpers/conformance.js';
import { escapeControls, logSafe } from '../../src/protocol/peer-text.js';

interface EscapeCase {
  readonly name: string;
  readonly why: string;
  readonly text: string;
  readonly escaped: string;
}

const table = loadTable<EscapeCase>('log-escapes.json');

test('log-escapes: the table has cases', () => assert.ok(table.cases.length > 0));

for (const c of table.cases) {
  test(`log-escapes ${c.name}: ${c.why}`, () => {
    assert.equal(escapeControls(c.text, false), c.escaped);
    // The same text as it arrives on the wire: UTF-8 bytes, one char per byte.
    assert.equal(logSafe(Buffer.from(c.text, 'utf8').toString('latin1')), c.escaped);
  });
}
