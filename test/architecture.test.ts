/**
 * Dependencies point one way (DESIGN.md): cli → master → router → worker/log/static/proxy →
 * server → protocol; config and errors are leaves anyone may use; nothing imports stats.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const SRC = join(process.cwd(), 'src');
const RANK: Record<string, number> = { errors: 0, config: 0, protocol: 1, server: 2, worker: 3, log: 3, static: 3, proxy: 3, router: 4, master: 5, cli: 6 };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function area(file: string): string {
  return relative(SRC, file).split('/')[0]!;
}

test('every src/ import respects the layer order', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = area(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
      const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
      const to = area(target);
      if (to === from) continue;
      if (to === 'stats') violations.push(`${relative(SRC, file)} imports stats (stats only subscribes to diagnostics channels)`);
      const rf = RANK[from];
      const rt = RANK[to];
      if (rf === undefined || rt === undefined) {
        violations.push(`${relative(SRC, file)} → ${to}: area not in the layer table`);
      } else if (rt >= rf && rt !== 0) {
        violations.push(`${relative(SRC, file)} (${from}) imports ${m[1]} (${to}): dependencies must point down the layers`);
      } else if (rf === 0 && rt !== 0) {
        violations.push(`${relative(SRC, file)}: ${from} is a leaf and may not import ${to}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('protocol codecs are sans-IO: no sockets, files or timers', () => {
  const offenders = files(join(SRC, 'protocol')).filter((f) => /from 'node:(net|fs|dgram|tls|http|timers)'|setTimeout\(|setInterval\(/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => relative(SRC, f)), []);
});
