/**
 * test/fixtures/conformance/forwarded.json against the master's rule (the direct HTTP path
 * runs the same table in test/python/test_conformance.py).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadTable } from '../helpers/conformance.js';
import { forwardedClient, parseForwardedAllow, peerIsTrusted } from '../../src/server/forwarded.js';

interface ForwardedCase {
  readonly name: string;
  readonly why: string;
  readonly peer: string;
  readonly allow: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly expect: { readonly remote_addr: string; readonly remote_port: number; readonly scheme: 'http' | 'https' | null } | null;
}

const table = loadTable<ForwardedCase>('forwarded.json');

for (const c of table.cases) {
  test(`forwarded ${c.name}: ${c.why}`, () => {
    const trust = parseForwardedAllow(c.allow);
    if (trust !== 'all' && 'bad' in trust) assert.fail(`allow: ${trust.bad} is not an address`);
    const client = peerIsTrusted(c.peer, trust) ? forwardedClient(c.headers.flat(), trust) : null;
    assert.deepEqual(client === null ? null : { remote_addr: client.remoteAddress, remote_port: client.remotePort, scheme: client.scheme }, c.expect);
  });
}
