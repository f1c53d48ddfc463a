import test from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, parseBool, parseInteger, parseKeyValue, parseSeconds, parseSize } from '../../src/config/units.js';

const value = <T>(r: { ok: boolean; value?: T }): T | undefined => (r.ok ? r.value : undefined);

test('sizes accept bytes and k/m/g suffixes (binary multiples)', () => {
  assert.equal(value(parseSize('65536')), 65536);
  assert.equal(value(parseSize('64k')), 65536);
  assert.equal(value(parseSize('64K')), 65536);
  assert.equal(value(parseSize('64kb')), 65536);
  assert.equal(value(parseSize('1m')), 1048576);
  assert.equal(value(parseSize('1MB')), 1048576);
  assert.equal(value(parseSize('2g')), 2 * 1024 ** 3);
  assert.equal(value(parseSize(' 0 ')), 0);
});

test('bad sizes are refused with a fix', () => {
  for (const bad of ['64x', '-1', '1.5m', '', 'k', 'lots']) {
    const r = parseSize(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.fix, /64k/);
  }
});

test('seconds become milliseconds', () => {
  assert.equal(value(parseSeconds('60')), 60_000);
  assert.equal(value(parseSeconds('1.5')), 1500);
  assert.equal(value(parseSeconds('500ms')), 500);
  assert.equal(value(parseSeconds('2m')), 120_000);
  assert.equal(value(parseSeconds('1h')), 3_600_000);
  assert.equal(parseSeconds('soon').ok, false);
  assert.equal(parseSeconds('5d').ok, false);
});

test('booleans: the uWSGI words, bare keys and empty values are true', () => {
  for (const t of ['true', 'TRUE', '1', 'yes', 'on', '', null]) assert.equal(value(parseBool(t)), true, String(t));
  for (const f of ['false', 'False', '0', 'no', 'off']) assert.equal(value(parseBool(f)), false, f);
  assert.equal(parseBool('maybe').ok, false);
});

test('integers are digits only', () => {
  assert.equal(value(parseInteger('4')), 4);
  assert.equal(value(parseInteger(' 12 ')), 12);
  assert.equal(parseInteger('4.5').ok, false);
  assert.equal(parseInteger('four').ok, false);
  assert.equal(parseInteger('99999999999999999999').ok, false);
});

test('KEY=VALUE keeps everything after the first =', () => {
  assert.deepEqual(value(parseKeyValue('A=b=c')), ['A', 'b=c']);
  assert.deepEqual(value(parseKeyValue('EMPTY=')), ['EMPTY', '']);
  assert.equal(parseKeyValue('NOEQUALS').ok, false);
  assert.equal(parseKeyValue('=value').ok, false);
});

test('formatSize picks the largest exact unit', () => {
  assert.equal(formatSize(65536), '64k');
  assert.equal(formatSize(1048576), '1m');
  assert.equal(formatSize(1000), '1000');
});
