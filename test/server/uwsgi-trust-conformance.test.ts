/**
 * test/fixtures/conformance/uwsgi-trust.json against the master's rule (the Python side runs
 * the same table in test/python/test_conformance.py).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadTable } from '../helpers/conformance.js';
import { parseCidr } from '../../src/config/cidr.js';
import { peerTrust } from '../../src/server/uwsgi-trust.js';

interface TrustCase {
  readonly name: string;
  readonly why: string;
  readonly listener: 'socket' | 'http';
  readonly peer: string;
  readonly allow: readonly string[];
  readonly expect: 'trusted' | 'request-only' | 'refused';
  readonly direct?: 'serve' | 'relay';
}

const table = loadTable<TrustCase>('uwsgi-trust.json');

for (const c of table.cases) {
  test(`uwsgi-trust ${c.name}: ${c.why}`, () => {
    const allowed = c.allow.map((a) => parseCidr(a)!);
    assert.equal(peerTrust(c.listener === 'socket', false, c.peer, allowed), c.expect);
    // A worker serves a peer itself only when the master would trust it too.
    if (c.direct === 'serve') assert.equal(c.expect, 'trusted');
  });
}
