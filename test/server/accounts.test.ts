import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { numericId, primaryGroupOf } from '../../src/server/accounts.js';

const nobody = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))?.split(':');

test('names resolve through /etc/passwd and /etc/group; numbers are taken as they are', () => {
  assert.ok(nobody !== undefined, 'this test needs the user nobody in /etc/passwd');
  assert.equal(numericId('root', '/etc/passwd'), 0);
  assert.equal(numericId('root', '/etc/group'), 0);
  assert.equal(numericId('nobody', '/etc/passwd'), Number(nobody[2]));
  assert.equal(numericId('4242', '/etc/passwd'), 4242);
  assert.equal(numericId('no-such-user-berth', '/etc/passwd'), null);
});

test("a user's primary group comes from its passwd line, by name or by uid", () => {
  assert.equal(primaryGroupOf('nobody'), Number(nobody![3]));
  assert.equal(primaryGroupOf(nobody![2]!), Number(nobody![3]));
  assert.equal(primaryGroupOf('no-such-user-berth'), null);
});
