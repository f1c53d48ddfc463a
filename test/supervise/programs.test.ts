import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { readProgramSections } from '../../src/config/program-sections.js';
import { Programs } from '../../src/supervise/programs.js';
import { freePort } from '../helpers/nginx.js';

/** Programs from [program:x]-style key maps, with a log that tests can wait on. */
function harness(sections: Record<string, Record<string, string>>) {
  const read = readProgramSections(Object.entries(sections).map(([name, keys]) => ({
    name: `program:${name}`, file: '/t/site.ini', line: 1, entries: Object.entries(keys).map(([key, value], i) => ({ key, value, line: i + 2 })),
  })), process.env);
  assert.deepEqual(read.problems, []);
  const log: string[] = [];
  const watchers: { re: RegExp; resolve: () => void }[] = [];
  const add = (text: string): void => {
    log.push(`${Date.now()} ${text}`);
    for (const w of [...watchers]) if (w.re.test(text)) { watchers.splice(watchers.indexOf(w), 1); w.resolve(); }
  };
  const programs = new Programs(read.programs, { log: (level, m) => add(`${level} ${m}`), line: add });
  const waitFor = (re: RegExp): Promise<void> => log.some((l) => re.test(l)) ? Promise.resolve() : new Promise((resolve) => watchers.push({ re, resolve }));
  return { programs, log, waitFor };
}

/** Pids whose process group is pgid (from /proc). */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(fields[2]) === pgid && fields[0] !== 'Z';
    } catch {
      return false;
    }
  }).map(Number);
}

test('a program that crashes at once is started again after 1 s, then 2 s, then FATAL with its last lines in the log', async () => {
  const h = harness({ crash: { command: "/bin/sh -c 'echo out-line; echo err-line >&2; exit 3'", startsecs: '1', startretries: '2' } });
  h.programs.startAll();
  await h.waitFor(/FATAL/);
  const text = h.log.join('\n');
  assert.match(text, /BACKOFF: retry 1 of 2 in 1 s/);
  assert.match(text, /BACKOFF: retry 2 of 2 in 2 s/);
  assert.match(text, /program crash: FATAL: exited with code 3 before startsecs 3 time\(s\) in a row/);
  assert.equal((text.match(/spawned with pid/g) ?? []).length, 3);
  const after = text.slice(text.indexOf('FATAL'));
  assert.match(after, /\[crash\] \| out-line/);
  assert.match(after, /\[crash\] \| err-line/);
  const status = h.programs.status()[0]!;
  assert.equal(status.state, 'FATAL');
  assert.equal(status.restarts, 2);
  await h.programs.stopAll(5000);
});

test('programs are spawned in priority order (lower first; 999 by default), then in the order written', async () => {
  const h = harness({
    c: { command: 'sleep 300', priority: '900', startsecs: '0' },
    a: { command: 'sleep 300', priority: '1', startsecs: '0' },
    b1: { command: 'sleep 300', startsecs: '0' },
    b2: { command: 'sleep 300', startsecs: '0' },
  });
  h.programs.startAll();
  await Promise.all(['a', 'b1', 'b2', 'c'].map((n) => h.waitFor(new RegExp(`program ${n}: RUNNING`))));
  const spawned = h.log.map((l) => /program (\w+): spawned/.exec(l)?.[1]).filter((n) => n !== undefined);
  assert.deepEqual(spawned, ['a', 'c', 'b1', 'b2'], 'priority 1, then 900, then the two at the default 999 as written');
  await h.programs.stopAll(5000);
});

test('a program that depends on a slow one starts only once the slow one answers its ready-check', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-deps-'));
  const port = await freePort();
  const server = `import socket,time; time.sleep(1.5); s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${port})); s.listen(); print('listening', repr(time.time()), flush=True); time.sleep(300)`;
  const h = harness({
    // Declared first and with the lower priority, so only depends-on holds it back.
    after: { command: `python3 -c "import time; print('started', repr(time.time()), flush=True); time.sleep(300)"`, 'depends-on': 'slow', priority: '1', startsecs: '0' },
    slow: { command: `python3 -c "${server}"`, 'ready-check': `tcp:127.0.0.1:${port}`, startsecs: '0', priority: '2' },
  });
  try {
    h.programs.startAll();
    await h.waitFor(/\[after\] started /);
    const at = (re: RegExp): number => Number(re.exec(h.log.join('\n'))![1]);
    const listening = at(/\[slow\] listening ([\d.]+)/);
    const started = at(/\[after\] started ([\d.]+)/);
    assert.ok(started >= listening, `after started at ${started}, before slow listened at ${listening}`);
    const text = h.log.join('\n');
    assert.ok(text.indexOf('program slow: ready (tcp:') < text.indexOf('program after: spawned'), text);
  } finally {
    await h.programs.stopAll(5000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stopping a program leaves none of its grandchildren, even one that ignores SIGTERM', async () => {
  const stubborn = "python3 -c 'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)'";
  const h = harness({ tree: { command: `/bin/sh -c "sleep 300 & ${stubborn} & sleep 300 & wait"`, startsecs: '0', stopwaitsecs: '1' } });
  h.programs.startAll();
  await h.waitFor(/program tree: RUNNING/);
  const pid = h.programs.status()[0]!.pid!;
  // The shell and its three children share the program's process group.
  for (let i = 0; i < 50 && groupMembers(pid).length < 4; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(groupMembers(pid).length >= 4, 'the shell and its three children (and whatever python3 runs through) in the group');
  await h.programs.stopAll(10_000);
  // SIGKILL is sent by now; the kernel takes a moment to tear the processes down.
  for (let i = 0; i < 50 && groupMembers(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(groupMembers(pid), []);
  assert.equal(h.programs.status()[0]!.state, 'STOPPED');
});

test('stdout_logfile rotates at its maxbytes and keeps its backups', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rot-'));
  const file = join(dir, 'out.log');
  try {
    const h = harness({ talk: { command: `python3 -c "[print('x' * 99) for _ in range(1000)]"`, startsecs: '0', autorestart: 'false', stdout_logfile: file, stdout_logfile_maxbytes: '10KB', stdout_logfile_backups: '2' } });
    h.programs.startAll();
    await h.waitFor(/program talk: exited with code 0/);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(existsSync(`${file}.1`) && existsSync(`${file}.2`), readdirSync(dir).join(', '));
    assert.ok(!existsSync(`${file}.3`), 'no third backup');
    for (const f of [file, `${file}.1`, `${file}.2`]) assert.ok(statSync(f).size <= 10 * 1024, `${f} is ${statSync(f).size} bytes`);
    assert.ok(!h.log.some((l) => l.includes('[talk] x')), 'with its own file, the output stays out of Berth\'s log');
    await h.programs.stopAll(5000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
