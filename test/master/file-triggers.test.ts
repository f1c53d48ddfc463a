/**
 * FileTrigger with real files in a temp dir, through inotify (fs.watch on the directory) and
 * through the polling fallback. Each test waits for the callback with a deadline, then lets a
 * quiet period pass to prove no second call follows.
 */
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTrigger, type FileTriggerOptions } from '../../src/master/file-triggers.js';

const DEBOUNCE_MS = 100;
const QUIET_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-triggers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A trigger whose calls are recorded; closed when the test ends. */
function trigger(t: TestContext, files: string[], extra: Partial<FileTriggerOptions> = {}): { calls: string[][]; trig: FileTrigger } {
  const calls: string[][] = [];
  const trig = new FileTrigger({ files, onChange: (paths) => calls.push(paths), debounceMs: DEBOUNCE_MS, pollMs: 100, ...extra });
  t.after(() => trig.close());
  return { calls, trig };
}

async function waitForCalls(calls: string[][], n: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (calls.length < n) {
    if (Date.now() > end) throw new Error(`expected ${n} call(s) within ${ms} ms, got ${calls.length}`);
    await sleep(20);
  }
  await sleep(QUIET_MS);
}

for (const mode of ['watch', 'poll'] as const) {
  test(`${mode}: touch on an existing file fires once`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'reload.txt');
    writeFileSync(file, 'x');
    const { calls } = trigger(t, [file], { mode });
    execFileSync('touch', [file]);
    await waitForCalls(calls, 1);
    assert.deepEqual(calls, [[file]]);
  });

  test(`${mode}: a file that does not exist yet fires when it is created`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'later.txt');
    const { calls } = trigger(t, [file], { mode });
    await sleep(150);
    assert.deepEqual(calls, []);
    writeFileSync(file, '');
    await waitForCalls(calls, 1);
    assert.deepEqual(calls, [[file]]);
  });
}

test('watch: replacing the file by rename fires, and the watch keeps working afterwards', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'settings.py');
  writeFileSync(file, 'A = 1\n');
  const { calls } = trigger(t, [file]);
  writeFileSync(join(dir, '.settings.py.swp'), 'A = 2\n');
  renameSync(join(dir, '.settings.py.swp'), file);
  await waitForCalls(calls, 1);
  assert.deepEqual(calls, [[file]]);
  execFileSync('touch', [file]);
  await waitForCalls(calls, 2);
  assert.deepEqual(calls, [[file], [file]]);
});

test('watch: an unrelated file in the same directory, or a chmod of the watched one, does not fire', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'reload.txt');
  writeFileSync(file, 'x');
  const { calls } = trigger(t, [file]);
  writeFileSync(join(dir, 'other.txt'), 'y');
  execFileSync('touch', [join(dir, 'other.txt')]);
  chmodSync(file, 0o600);
  await sleep(QUIET_MS);
  assert.deepEqual(calls, []);
});

test('watch: a burst of 20 writes fires once; a checkout of 20 files fires once with all of them', async (t) => {
  const dir = tempDir(t);
  const files = Array.from({ length: 20 }, (_, i) => join(dir, `m${i}.py`));
  for (const f of files) writeFileSync(f, '');
  const { calls } = trigger(t, files);
  for (let i = 0; i < 20; i++) writeFileSync(files[0]!, `v = ${i}\n`);
  await waitForCalls(calls, 1);
  assert.deepEqual(calls, [[files[0]]]);
  for (const f of files) writeFileSync(f, 'changed = True\n');
  await waitForCalls(calls, 2);
  assert.equal(calls.length, 2);
  assert.deepEqual([...calls[1]!].sort(), [...files].sort());
});

test('watch: removing a watched file fires (as uWSGI 2.0 does); recreating it fires again', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'reload.txt');
  writeFileSync(file, 'x');
  const { calls } = trigger(t, [file]);
  unlinkSync(file);
  await waitForCalls(calls, 1);
  writeFileSync(file, 'x');
  await waitForCalls(calls, 2);
  assert.deepEqual(calls, [[file], [file]]);
});

test('a file in a directory that does not exist yet is polled, and fires when both appear', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'not-yet', 'reload.txt');
  const notices: string[] = [];
  const { calls } = trigger(t, [file], { onNotice: (m) => notices.push(m) });
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /cannot watch directory .*not-yet \(ENOENT\); checking its files every 100 ms instead/);
  mkdirSync(join(dir, 'not-yet'));
  writeFileSync(file, '');
  await waitForCalls(calls, 1);
  assert.deepEqual(calls, [[file]]);
});

test('setFiles: files added later are watched from their current state; dropped ones no longer fire', async (t) => {
  const dir = tempDir(t);
  const [a, b, c] = ['a.py', 'b.py', join('sub', 'c.py')].map((n) => join(dir, n)) as [string, string, string];
  mkdirSync(join(dir, 'sub'));
  for (const f of [a, b, c]) writeFileSync(f, '');
  const { calls, trig } = trigger(t, [a]);
  trig.setFiles([a, b, c]);
  assert.deepEqual(trig.files.sort(), [a, b, c].sort());
  await sleep(QUIET_MS);
  assert.deepEqual(calls, [], 'adding files is not a change');
  trig.setFiles([b, c]);
  writeFileSync(a, 'x = 1\n');
  writeFileSync(c, 'x = 1\n');
  await waitForCalls(calls, 1);
  assert.deepEqual(calls, [[c]]);
});

test('close() stops it: later changes do not fire', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'reload.txt');
  writeFileSync(file, 'x');
  const { calls, trig } = trigger(t, [file]);
  trig.close();
  execFileSync('touch', [file]);
  await sleep(QUIET_MS);
  assert.deepEqual(calls, []);
});

test('close() releases every handle: a process with persistent watchers (both kinds) exits on its own after close()', async (t) => {
  const dir = tempDir(t);
  const moduleUrl = new URL('../../src/master/file-triggers.js', import.meta.url).href;
  const script = `
    import { FileTrigger } from ${JSON.stringify(moduleUrl)};
    import { utimesSync, writeFileSync } from 'node:fs';
    const dir = ${JSON.stringify(dir)};
    writeFileSync(dir + '/a', 'x');
    const triggers = [];
    const fired = new Promise((resolve) => {
      for (const mode of ['watch', 'poll']) {
        triggers.push(new FileTrigger({ files: [dir + '/a', dir + '/missing/b'], mode, persistent: true, debounceMs: 50, pollMs: 100, onChange: resolve }));
      }
    });
    setTimeout(() => utimesSync(dir + '/a', new Date(), new Date(Date.now() + 5000)), 100);
    await fired;
    for (const t of triggers) t.close();
    console.log('closed');
  `;
  const result = await new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }, (err, stdout) => {
      resolve({ code: child.exitCode, signal: child.signalCode, out: stdout + (err ? String(err) : '') });
    });
  });
  assert.equal(result.signal, null, `the child had to be killed: something kept it alive (${result.out})`);
  assert.equal(result.code, 0, result.out);
  assert.match(result.out, /closed/);
});

test('the script above really is kept alive by persistent watchers that are not closed', async (t) => {
  const dir = tempDir(t);
  const moduleUrl = new URL('../../src/master/file-triggers.js', import.meta.url).href;
  const script = `
    import { FileTrigger } from ${JSON.stringify(moduleUrl)};
    new FileTrigger({ files: [${JSON.stringify(join(dir, 'a'))}], persistent: true, onChange: () => undefined });
  `;
  const signal = await new Promise<string | null>((resolve) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 1500 }, () => resolve(child.signalCode));
  });
  assert.equal(signal, 'SIGTERM', 'killed by the timeout, as expected');
});

test('watch: when the watched directory is removed and recreated, its files are polled and still fire', async (t) => {
  const dir = tempDir(t);
  const sub = join(dir, 'app');
  const file = join(sub, 'reload.txt');
  mkdirSync(sub);
  writeFileSync(file, 'x');
  const notices: string[] = [];
  const { calls } = trigger(t, [file], { onNotice: (m) => notices.push(m) });
  rmSync(sub, { recursive: true });
  await waitForCalls(calls, 1);
  assert.deepEqual(calls, [[file]], 'removal fires');
  assert.match(notices.join('\n'), /watching directory .*app failed \(the directory was removed or replaced\); checking its files every 100 ms instead/);
  mkdirSync(sub);
  writeFileSync(file, 'y');
  await waitForCalls(calls, 2);
  assert.deepEqual(calls, [[file], [file]]);
});

test('changedSince (py-autoreload): a file edited after the import began is a change when it is first watched; one edited before is not', async (t) => {
  const dir = tempDir(t);
  const before = join(dir, 'settled.py');
  const edited = join(dir, 'views.py');
  writeFileSync(before, 'x = 1\n');
  writeFileSync(edited, 'x = 1\n');
  const importStarted = Date.now();
  // The edit lands between the import and the moment the master learns of the file.
  const past = new Date(importStarted - 5000);
  const { utimesSync } = await import('node:fs');
  utimesSync(before, past, past);
  const later = new Date(importStarted + 1500);
  utimesSync(edited, later, later);
  const { calls, trig } = trigger(t, [], { changedSince: importStarted });
  trig.setFiles([before, edited]);
  await waitForCalls(calls, 1);
  assert.deepEqual(calls, [[edited]]);
});
