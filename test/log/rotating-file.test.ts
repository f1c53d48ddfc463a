/**
 * The log file sink on a real file system: appending, rotation by size (single writes and whole
 * batches), numbered and timestamped backup names and how many are kept, no line lost across
 * rotations, reopen after an external rename, and a directory that refuses the rename.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RotatingFileSink, type RotatingFileOptions } from '../../src/log/rotating-file.js';
import { Logger, fileSink } from '../../src/log/logger.js';
import { makeTree } from '../config/tmp-dir.js';
import { readableCopy } from '../helpers/readable-copy.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const tree = makeTree();
  t.after(() => tree.remove());
  return tree.dir;
}

function sink(opts: Partial<RotatingFileOptions> & { path: string }): RotatingFileSink {
  return new RotatingFileSink({ maxBytes: 0, backupName: null, backups: 0, ...opts });
}

const read = (p: string): string => readFileSync(p, 'utf8');
/** Ten bytes per line: "line 0001\n". */
const line = (i: number): string => `line ${String(i).padStart(4, '0')}\n`;

/** Backups `<name>.1…` oldest first, then the live file. */
function numberedInOrder(path: string, name: string): string {
  const dir = readdirSync(join(name, '..'));
  const base = name.slice(name.lastIndexOf('/') + 1) + '.';
  const ns = dir.filter((f) => f.startsWith(base) && /^\d+$/.test(f.slice(base.length))).map((f) => Number(f.slice(base.length)));
  ns.sort((a, b) => b - a);
  return ns.map((n) => read(`${name}.${n}`)).join('') + read(path);
}

/** Timestamped backups `<path>.<ts>[.<k>]` oldest first, then the live file. */
function stampedInOrder(path: string): string {
  const dir = join(path, '..');
  const base = path.slice(path.lastIndexOf('/') + 1) + '.';
  const found = readdirSync(dir)
    .filter((f) => f.startsWith(base))
    .map((f) => ({ f, m: /^(\d{10,})(?:\.(\d+))?$/.exec(f.slice(base.length)) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ f: x.f, ts: Number(x.m![1]), k: Number(x.m![2] ?? 0) }))
    .sort((a, b) => a.ts - b.ts || a.k - b.k);
  return found.map((x) => read(join(dir, x.f))).join('') + read(path);
}

test('appends to an existing file and never rotates when maxBytes is 0', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  writeFileSync(path, 'before\n');
  const s = sink({ path });
  for (let i = 0; i < 100; i++) s.write(line(i));
  s.close();
  assert.equal(read(path), 'before\n' + Array.from({ length: 100 }, (_, i) => line(i)).join(''));
  assert.deepEqual(readdirSync(dir), ['app.log']);
});

test('numbered backups: rotates before a write would pass maxBytes; .1 is newest; keeps N', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  const name = join(dir, 'old', 'app');
  mkdirSync(join(dir, 'old'));
  const s = sink({ path, maxBytes: 100, backupName: name, backups: 3 });
  for (let i = 0; i < 55; i++) s.write(line(i));
  s.close();
  // 55 lines of 10 bytes, 10 per file: 5 rotations, the oldest 2 backups dropped.
  assert.deepEqual(readdirSync(join(dir, 'old')).sort(), ['app.1', 'app.2', 'app.3']);
  assert.equal(read(`${name}.1`), Array.from({ length: 10 }, (_, i) => line(40 + i)).join(''));
  assert.equal(read(`${name}.3`), Array.from({ length: 10 }, (_, i) => line(20 + i)).join(''));
  assert.equal(read(path), Array.from({ length: 5 }, (_, i) => line(50 + i)).join(''));
  for (const f of ['app.1', 'app.2', 'app.3']) assert.equal(statSync(join(dir, 'old', f)).size, 100);
});

test('one batch larger than maxBytes is cut at line ends; a line longer than maxBytes gets its own file', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  const name = join(dir, 'bk');
  const s = sink({ path, maxBytes: 100, backupName: name, backups: 0 });
  const batch = Array.from({ length: 35 }, (_, i) => line(i)).join('');
  s.write(batch);
  assert.deepEqual([1, 2, 3].map((n) => statSync(`${name}.${n}`).size), [100, 100, 100]);
  assert.equal(statSync(path).size, 50);
  const long = 'x'.repeat(250) + '\n';
  s.write('a\n' + long + 'b\n');
  s.close();
  assert.equal(read(`${name}.1`), long);
  assert.equal(read(`${name}.2`), Array.from({ length: 5 }, (_, i) => line(30 + i)).join('') + 'a\n');
  assert.equal(read(path), 'b\n');
  assert.equal(numberedInOrder(path, name), batch + 'a\n' + long + 'b\n');
});

test('no line is lost: many lines through the Logger, in batches, across many rotations', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  const name = join(dir, 'app.log.bk');
  const logger = new Logger(fileSink(path, { maxBytes: 4096, backupName: name, backups: 0 }));
  let written = '';
  for (let turn = 0; turn < 40; turn++) {
    for (let i = 0; i < 97; i++) {
      const text = `turn ${turn} line ${i} ${'é'.repeat(i % 13)}`;
      logger.line(text);
      written += text + '\n';
    }
    await new Promise((r) => setImmediate(r));
  }
  logger.close();
  const backups = readdirSync(dir).filter((f) => f.startsWith('app.log.bk.'));
  assert.ok(backups.length >= 20, `rotated ${backups.length} times`);
  for (const f of backups) assert.ok(statSync(join(dir, f)).size <= 4096, `${f} within maxBytes`);
  assert.equal(numberedInOrder(path, name), written);
});

test('timestamped backups: <log>.<unix seconds>, a counter within one second, keeps the newest N, leaves other files alone', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  writeFileSync(join(dir, 'app.log.1'), 'logrotate leftover\n');
  writeFileSync(join(dir, 'app.log.old'), 'mine\n');
  let now = 1795297200_250;
  const s = sink({ path, maxBytes: 20, backups: 3, now: () => now });
  for (let i = 0; i < 6; i++) s.write(line(i)); // 2 per file: rotations at lines 2 and 4
  assert.deepEqual(readdirSync(dir).sort(), ['app.log', 'app.log.1', 'app.log.1795297200', 'app.log.1795297200.1', 'app.log.old']);
  now += 1000;
  for (let i = 6; i < 12; i++) s.write(line(i)); // rotations at lines 6, 8, 10
  s.close();
  assert.deepEqual(readdirSync(dir).sort(), ['app.log', 'app.log.1', 'app.log.1795297201', 'app.log.1795297201.1', 'app.log.1795297201.2', 'app.log.old']);
  assert.equal(read(join(dir, 'app.log.1795297201')), line(4) + line(5));
  assert.equal(read(join(dir, 'app.log.1795297201.2')), line(8) + line(9));
  assert.equal(read(path), line(10) + line(11));
  assert.equal(read(join(dir, 'app.log.1')), 'logrotate leftover\n');
});

test('timestamped backups with backups = 0 keeps them all, in order', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  let now = 1795297200_000;
  const s = sink({ path, maxBytes: 30, backups: 0, now: () => now });
  let written = '';
  for (let i = 0; i < 200; i++) {
    if (i % 25 === 0) now += 1000;
    s.write(line(i));
    written += line(i);
  }
  s.close();
  assert.equal(readdirSync(dir).length, 67);
  assert.equal(stampedInOrder(path), written);
});

test('reopen: after an external rename, new lines go to a new file at the path', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  const logger = new Logger(fileSink(path));
  logger.line('one');
  logger.flush();
  renameSync(path, join(dir, 'app.log.rotated'));
  logger.line('two'); // still pending: reopen writes it to the old file first
  logger.reopen();
  logger.line('three');
  logger.close();
  assert.equal(read(join(dir, 'app.log.rotated')), 'one\ntwo\n');
  assert.equal(read(path), 'three\n');
});

test('a rotation that cannot rename reports once, keeps writing to the same file, and retries later', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  const reports: string[] = [];
  let now = 1_000_000;
  const s = sink({ path, maxBytes: 30, backupName: join(dir, 'missing', 'app'), backups: 2, report: (m) => reports.push(m), now: () => now, retryMs: 5000 });
  let written = '';
  for (let i = 0; i < 12; i++) {
    s.write(line(i));
    written += line(i);
  }
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /could not rotate the log file .*app\.log .*log-backupname/);
  assert.equal(read(path), written, 'every line still in the live file');
  mkdirSync(join(dir, 'missing'));
  now += 5000;
  s.write(line(12));
  s.close();
  assert.equal(read(join(dir, 'missing', 'app.1')), written);
  assert.equal(read(path), line(12));
  assert.equal(reports.length, 1);
});

test('a rotation failure names the option and where it was set', (t) => {
  const dir = tmp(t);
  const reports: string[] = [];
  const s = sink({ path: join(dir, 'app.log'), maxBytes: 30, backupName: join(dir, 'missing', 'app'), backups: 2, report: (m) => reports.push(m), setting: "option 'logto' (line 3 of /etc/site.ini)" });
  for (let i = 0; i < 6; i++) s.write(line(i));
  s.close();
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /^option 'logto' \(line 3 of \/etc\/site\.ini\): could not rotate the log file .*app\.log/);
});

test('a directory that becomes unwritable: no throw, one warning in the log, every line kept', (t) => {
  const dir = tmp(t);
  const code = readableCopy(['dist/src/log']); // the writer may run as nobody
  t.after(code.remove);
  const path = join(dir, 'app.log');
  const N = 60;
  const script = `
    const { RotatingFileSink } = await import(${JSON.stringify(pathToFileURL(code.path('dist/src/log/rotating-file.js')).href)});
    const s = new RotatingFileSink({ path: ${JSON.stringify(path)}, maxBytes: 100, backupName: null, backups: 0 });
    for (let i = 0; i < ${N}; i++) s.write('line ' + String(i).padStart(4, '0') + '\\n');
    s.write('batch a\\nbatch b\\n'.repeat(20));
    s.close();
    console.log('done');
  `;
  writeFileSync(path, '');
  chmodSync(path, 0o666);
  // root ignores directory permissions: then the writer runs as nobody in a root-owned 0755 directory.
  const asRoot = process.getuid?.() === 0;
  chmodSync(dir, asRoot ? 0o755 : 0o555);
  let r;
  try {
    r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
  } finally {
    chmodSync(dir, 0o755);
  }
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done');
  const lines = read(path).split('\n').filter(Boolean);
  const warnings = lines.filter((l) => l.startsWith('[berth] WARNING: '));
  assert.equal(warnings.length, 1, lines.join('\n'));
  assert.match(warnings[0]!, /could not rotate the log file .*app\.log \(rename it to .*app\.log\.\d+\): EACCES/);
  const rest = lines.filter((l) => !l.startsWith('[berth] WARNING: '));
  assert.deepEqual(rest, [...Array.from({ length: N }, (_, i) => line(i).trim()), ...Array.from({ length: 20 }, () => ['batch a', 'batch b']).flat()]);
  assert.deepEqual(readdirSync(dir), ['app.log']);
});

test('reopen that cannot open the path throws for the caller to log and keeps the old file', (t) => {
  const dir = tmp(t);
  mkdirSync(join(dir, 'a'));
  const path = join(dir, 'a', 'app.log');
  const logger = new Logger(fileSink(path));
  logger.line('one');
  renameSync(join(dir, 'a'), join(dir, 'b'));
  assert.throws(() => logger.reopen(), /cannot open .*a\/app\.log: ENOENT.*still writing to the previous file/);
  logger.line('two');
  logger.close();
  assert.equal(read(join(dir, 'b', 'app.log')), 'one\ntwo\n');
});

test('a write that fails (disk full) does not throw and is reported once on stderr', () => {
  const script = `
    const { RotatingFileSink } = await import(${JSON.stringify(new URL('../../src/log/rotating-file.js', import.meta.url).href)});
    const s = new RotatingFileSink({ path: '/dev/full', maxBytes: 0, backupName: null, backups: 0 });
    for (let i = 0; i < 5; i++) s.write('x\\n');
    s.close();
    console.log('survived');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'survived');
  const errors = r.stderr.split('\n').filter((l) => l.includes('could not write to the log file /dev/full'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, /ENOSPC/);
});

test('two lines longer than maxBytes in one batch get a file each', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'app.log');
  const name = join(dir, 'bk');
  const s = sink({ path, maxBytes: 10, backupName: name, backups: 0 });
  const a = 'a'.repeat(30) + '\n';
  const b = 'b'.repeat(30) + '\n';
  s.write(a + b + 'c\n');
  s.close();
  assert.deepEqual([read(`${name}.2`), read(`${name}.1`), read(path)], [a, b, 'c\n']);
});
