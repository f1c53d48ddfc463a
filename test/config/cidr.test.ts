import test from 'node:test';
import assert from 'node:assert/strict';
import { inNetworks, LOOPBACK, parseCidr } from '../../src/config/cidr.js';

test('parseCidr accepts IPv4, IPv6 and single addresses; refuses the rest', () => {
  assert.equal(parseCidr('10.0.0.0/8')?.prefix, 8);
  assert.equal(parseCidr('192.168.1.7')?.prefix, 32);
  assert.equal(parseCidr('fd00::/8')?.prefix, 8);
  assert.equal(parseCidr('::1')?.prefix, 128);
  for (const bad of ['', 'nonsense', '10.0.0.0/33', '10.0.0/8', '::1/129', '10.0.0.0/x', '1.2.3.4/-1']) assert.equal(parseCidr(bad), null, bad);
});

test('inNetworks matches by prefix, including IPv4-mapped IPv6 peers', () => {
  const nets = [parseCidr('10.0.0.0/8')!, parseCidr('192.168.1.0/25')!, parseCidr('fd00::/8')!];
  assert.equal(inNetworks('10.200.3.4', nets), true);
  assert.equal(inNetworks('::ffff:10.1.2.3', nets), true);
  assert.equal(inNetworks('192.168.1.127', nets), true);
  assert.equal(inNetworks('192.168.1.128', nets), false);
  assert.equal(inNetworks('11.0.0.1', nets), false);
  assert.equal(inNetworks('fd12:3456::1', nets), true);
  assert.equal(inNetworks('fe80::1', nets), false);
  assert.equal(inNetworks('', nets), false);
});

test('loopback covers 127/8 and ::1 only', () => {
  assert.equal(inNetworks('127.0.0.1', LOOPBACK), true);
  assert.equal(inNetworks('127.9.9.9', LOOPBACK), true);
  assert.equal(inNetworks('::1', LOOPBACK), true);
  assert.equal(inNetworks('::ffff:127.0.0.1', LOOPBACK), true);
  assert.equal(inNetworks('10.0.0.1', LOOPBACK), false);
  assert.equal(inNetworks('::2', LOOPBACK), false);
});
