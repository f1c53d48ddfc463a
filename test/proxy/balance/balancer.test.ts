/**
 * One conformance suite run over every balancing policy (never an unavailable or excluded
 * backend, backups only when no primary is usable, null when nothing is left), then each
 * policy's own rules: nginx's sequences and distributions over many picks.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { makeBalancer, type BackendView, type BalanceSpec, type Balancer } from '../../../src/proxy/balance/balancer.js';

const POLICIES: readonly BalanceSpec[] = [
  { kind: 'round-robin' },
  { kind: 'least-conn' },
  { kind: 'ip-hash' },
  { kind: 'hash', key: '$request_uri', consistent: false },
  { kind: 'hash', key: '$request_uri', consistent: true },
  { kind: 'random-two' },
];

/** A seeded generator (mulberry32), so every run draws the same numbers. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function view(index: number, over: Partial<BackendView> = {}): BackendView {
  return { index, weight: 1, backup: false, available: true, active: 0, ...over };
}

function keyFor(spec: BalanceSpec, n: number): string {
  return spec.kind === 'ip-hash' ? `10.${n % 200}.${(n * 7) % 250}.9` : `/page/${n}`;
}

function picks(b: Balancer, spec: BalanceSpec, backends: readonly BackendView[], n: number, exclude: ReadonlySet<number> = new Set()): Array<number | null> {
  const out: Array<number | null> = [];
  for (let i = 0; i < n; i++) out.push(b.pick(backends, keyFor(spec, i), exclude));
  return out;
}

for (const spec of POLICIES) {
  const name = spec.kind === 'hash' ? `hash${spec.consistent ? ' consistent' : ''}` : spec.kind;
  test(`${name}: never picks an unavailable or excluded backend, and uses all the others`, () => {
    const backends = [view(0), view(1, { available: false }), view(2, { weight: 3 }), view(3), view(4, { available: false })];
    const b = makeBalancer(spec, seeded(1));
    const got = picks(b, spec, backends, 600, new Set([3]));
    assert.ok(got.every((i) => i === 0 || i === 2), `only 0 and 2 may be picked, got ${[...new Set(got)].join(',')}`);
    assert.ok(got.includes(0) && got.includes(2), 'both usable backends get requests');
  });

  test(`${name}: backups only when every primary is out`, () => {
    const b = makeBalancer(spec, seeded(2));
    const withPrimary = [view(0, { backup: true }), view(1), view(2, { available: false }), view(3, { backup: true })];
    assert.ok(picks(b, spec, withPrimary, 200).every((i) => i === 1));
    const primariesOut = [view(0, { backup: true }), view(1, { available: false }), view(2, { available: false }), view(3, { backup: true })];
    const got = picks(b, spec, primariesOut, 200);
    assert.ok(got.every((i) => i === 0 || i === 3) && got.includes(0) && got.includes(3), 'both backups serve');
    assert.ok(picks(b, spec, withPrimary, 50, new Set([1])).every((i) => i === 0 || i === 3), 'a primary excluded by a retry counts as out');
  });

  test(`${name}: null when no backend is usable`, () => {
    const b = makeBalancer(spec, seeded(3));
    assert.equal(b.pick([], 'k', new Set()), null);
    assert.equal(b.pick([view(0, { available: false }), view(1, { backup: true, available: false })], '10.0.0.1', new Set()), null);
    assert.equal(b.pick([view(0), view(1, { backup: true })], '10.0.0.1', new Set([0, 1])), null);
  });

  test(`${name}: one usable backend gets every request, whatever the key`, () => {
    const b = makeBalancer(spec, seeded(4));
    assert.ok(picks(b, spec, [view(0, { available: false }), view(7, { weight: 5 })], 100).every((i) => i === 7));
    assert.equal(b.pick([view(0, { available: false }), view(7)], null, new Set()), 7);
  });
}

const letters = (xs: Array<number | null>): string => xs.map((i) => (i === null ? '-' : 'abc'[i])).join(' ');

test('round robin is nginx smooth weighted: weights 5/1/1 pick a a b a c a a, again and again', () => {
  const b = makeBalancer({ kind: 'round-robin' });
  const group = [view(0, { weight: 5 }), view(1), view(2)];
  const seq: Array<number | null> = [];
  for (let i = 0; i < 14; i++) seq.push(b.pick(group, null, new Set()));
  assert.equal(letters(seq), 'a a b a c a a a a b a c a a');
});

test('round robin: equal weights alternate; a backend coming back joins without a burst', () => {
  const b = makeBalancer({ kind: 'round-robin' });
  const seq: Array<number | null> = [];
  for (let i = 0; i < 6; i++) seq.push(b.pick([view(0), view(1), view(2)], null, new Set()));
  assert.equal(letters(seq), 'a b c a b c');
  const counts = [0, 0, 0];
  const group = [view(0, { weight: 5 }), view(1, { weight: 1 }), view(2, { weight: 1, available: false })];
  for (let i = 0; i < 60; i++) counts[b.pick(group, null, new Set())!]++;
  assert.deepEqual(counts, [50, 10, 0]);
});

test('least-conn: fewest in flight per unit of weight; ties shared by smooth round robin', () => {
  const b = makeBalancer({ kind: 'least-conn' });
  assert.equal(b.pick([view(0, { active: 3 }), view(1, { active: 1 }), view(2, { active: 2 })], null, new Set()), 1);
  assert.equal(b.pick([view(0, { active: 3, weight: 4 }), view(1, { active: 1 })], null, new Set()), 0, '3/4 < 1/1');
  const tied = [view(0, { active: 2, weight: 2 }), view(1, { active: 1 }), view(2, { active: 5 })];
  const seq: Array<number | null> = [];
  for (let i = 0; i < 6; i++) seq.push(b.pick(tied, null, new Set()));
  assert.equal(letters(seq), 'a b a a b a', 'the tied pair shares 2:1 smoothly, the loaded one waits');
});

test('ip-hash: one /24 keeps its backend; nginx hash 89·113 mod 6271 over three octets', () => {
  const b = makeBalancer({ kind: 'ip-hash' });
  const group = [view(0), view(1), view(2)];
  const first = b.pick(group, '192.168.7.10', new Set());
  for (const host of [1, 99, 254]) assert.equal(b.pick(group, `192.168.7.${host}`, new Set()), first);
  assert.equal(b.pick(group, '::ffff:192.168.7.3', new Set()), first, 'IPv4-mapped counts as IPv4');
  let h = 89;
  for (const o of [192, 168, 7]) h = (h * 113 + o) % 6271;
  assert.equal(first, h % 3);
  const spread = new Set(picks(b, { kind: 'ip-hash' }, group, 300));
  assert.equal(spread.size, 3, 'different networks spread');
});

test('ip-hash: an unavailable backend rehashes its clients, the others keep theirs', () => {
  const b = makeBalancer({ kind: 'ip-hash' });
  const all = [view(0), view(1), view(2)];
  const oneOut = [view(0), view(1, { available: false }), view(2)];
  for (let n = 0; n < 200; n++) {
    const ip = `10.${n}.1.1`;
    const before = b.pick(all, ip, new Set());
    const after = b.pick(oneOut, ip, new Set());
    if (before !== 1) assert.equal(after, before, ip);
    else assert.ok(after === 0 || after === 2);
  }
});

test('hash (not consistent): the same key, the same backend; crc32 spreads keys by weight', () => {
  const b = makeBalancer({ kind: 'hash', key: '$request_uri', consistent: false });
  const group = [view(0, { weight: 2 }), view(1), view(2)];
  assert.equal(b.pick(group, '/a', new Set()), b.pick(group, '/a', new Set()));
  const counts = [0, 0, 0];
  for (let i = 0; i < 8000; i++) counts[b.pick(group, `/item/${i}`, new Set())!]++;
  assert.ok(Math.abs(counts[0]! / 8000 - 0.5) < 0.04 && Math.abs(counts[1]! / 8000 - 0.25) < 0.04, `2:1:1, got ${counts}`);
});

test('hash consistent: removing one of four backends moves only its own keys, and about a quarter', () => {
  const b = makeBalancer({ kind: 'hash', key: '$request_uri', consistent: true });
  const names = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'];
  const four = names.map((name, index) => ({ ...view(index), name }));
  const three = four.slice(0, 3);
  let moved = 0;
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    const key = `/user/${i}`;
    const before = b.pick(four, key, new Set())!;
    counts[before]++;
    const after = b.pick(three, key, new Set());
    if (before !== 3) assert.equal(after, before, key);
    else moved++;
  }
  assert.ok(moved > 600 && moved < 1400, `about a quarter moved: ${moved}`);
  assert.ok(counts.every((c) => c > 600), `ketama spreads: ${counts}`);
});

test('random two: weighted draws, the less loaded of two wins; seeded draws are reproducible', () => {
  const group = [view(0, { weight: 3 }), view(1), view(2)];
  const counts = [0, 0, 0];
  const b = makeBalancer({ kind: 'random-two' }, seeded(9));
  for (let i = 0; i < 6000; i++) counts[b.pick(group, null, new Set())!]++;
  assert.ok(counts[0]! > counts[1]! * 1.5 && counts[1]! > 600 && counts[2]! > 600, `weighted: ${counts}`);
  const loaded = [view(0, { active: 9 }), view(1, { active: 0 })];
  assert.ok(picks(makeBalancer({ kind: 'random-two' }, seeded(5)), { kind: 'random-two' }, loaded, 100).every((i) => i === 1), 'with two backends the idle one always wins');
  const c = [view(0, { active: 5 }), view(1, { active: 0 }), view(2, { active: 5 })];
  const got = picks(makeBalancer({ kind: 'random-two' }, seeded(6)), { kind: 'random-two' }, c, 3000);
  assert.ok(got.filter((i) => i === 1).length > 1800, 'the idle one of three wins whenever it is drawn (2/3 of pairs)');
  assert.deepEqual(picks(makeBalancer({ kind: 'random-two' }, seeded(7)), { kind: 'random-two' }, group, 50), picks(makeBalancer({ kind: 'random-two' }, seeded(7)), { kind: 'random-two' }, group, 50));
});
