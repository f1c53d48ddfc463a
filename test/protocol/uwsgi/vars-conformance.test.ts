/**
 * The uwsgi vars table (test/fixtures/conformance/uwsgi-vars.json) against the master's
 * parsing of a vars block: UwsgiRequestParser (fed whole, byte by byte, and as the DIRECT
 * record's block in src/server/direct-record.ts) then buildUwsgiEnviron, which refuses NULs.
 * test/python/test_conformance.py runs the same table against the worker's direct path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UwsgiRequestParser } from '../../../src/protocol/uwsgi/request-parser.js';
import type { UwsgiRequestHead } from '../../../src/protocol/uwsgi/types.js';
import { buildUwsgiEnviron } from '../../../src/server/uwsgi-environ.js';
import { exchangeFromRecord } from '../../../src/server/direct-record.js';
import { ScriptNameRule } from '../../../src/server/script-name.js';
import { loadTable } from '../../helpers/conformance.js';

interface VarsCase {
  readonly name: string;
  readonly why: string;
  readonly hex: string;
  readonly expect: { readonly vars: Record<string, string>; readonly content_length: number } | { readonly rejected: string };
}

type Outcome = { vars: Record<string, string>; content_length: number } | { rejected: string };

const table = loadTable<VarsCase>('uwsgi-vars.json');
const noScriptNames = new ScriptNameRule([]);

/** Packet header (modifier1 0, datasize, modifier2 0) + the block, in the given pieces. */
function parse(block: Buffer, pieceBytes: number): Outcome {
  let head: UwsgiRequestHead | null = null;
  let error: string | null = null;
  const parser = new UwsgiRequestParser({
    onHead: (h) => (head = h),
    onBody: () => undefined,
    onMessageEnd: () => undefined,
    onError: (e) => (error = e.reason),
  }, { maxVarsBytes: 65535, maxBodyBytes: 0 });
  const packet = Buffer.concat([Buffer.from([0, block.length & 0xff, block.length >> 8, 0]), block]);
  for (let i = 0; i < packet.length && error === null; i += pieceBytes) parser.execute(packet.subarray(i, i + pieceBytes));
  if (error !== null) return { rejected: error };
  const h = head as UwsgiRequestHead | null;
  assert.ok(h !== null, 'the parser neither emitted a head nor failed');
  const env = buildUwsgiEnviron(h.vars, h.contentLength, { stripScriptName: false, scriptNames: noScriptNames });
  if (env === null) return { rejected: 'nul' };
  // The vars as the environ holds them (the block the worker gets), for the keys the packet sent;
  // CONTENT_LENGTH as the packet spelt it (the environ carries the parsed number).
  const fields = env.block.split('\0');
  const environ = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) environ.set(fields[i]!, fields[i + 1]!);
  const vars: Record<string, string> = {};
  for (let i = 0; i < h.vars.length; i += 2) {
    const key = h.vars[i]!;
    if (key.startsWith('wsgi.')) continue;
    vars[key] = key === 'CONTENT_LENGTH' ? h.vars[i + 1]! : environ.get(key)!;
  }
  return { vars, content_length: h.contentLength };
}

for (const c of table.cases) {
  test(`uwsgi vars conformance: ${c.name} (${c.why})`, () => {
    const block = Buffer.from(c.hex, 'hex');
    assert.deepEqual(parse(block, block.length + 4), c.expect, 'fed whole');
    assert.deepEqual(parse(block, 1), c.expect, 'fed byte by byte');
    // A worker's DIRECT record carries the block as it was read; the access log decodes it the same way.
    const record = { status: 200, bytesSent: 0, micros: 1, endWallMs: 0, modifier1: 0, vars: block };
    const ex = exchangeFromRecord(record, { manageScriptName: false, scriptNames: noScriptNames });
    assert.equal(ex === null, 'rejected' in c.expect, 'DIRECT record decoding agrees');
  });
}

test('uwsgi vars conformance: the table covers acceptance and every refusal kind the parser has for a block', () => {
  const kinds = new Set(table.cases.map((c) => ('rejected' in c.expect ? c.expect.rejected : 'accepted')));
  for (const k of ['accepted', 'bad-length', 'empty-key', 'bad-content-length', 'nul']) assert.ok(kinds.has(k), k);
});
