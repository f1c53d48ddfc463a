// The bench's process handling on real processes: the stop that proves nothing is left
// behind (a tree that stops itself; a child that escaped the process group), and the
// memory of one process in the units the tables print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../src/master/proc.js';
import { Tracker, TreeWatcher, contextSwitches, processTree, spawnServer, stopServer, type Stopped } from '../../bench/lib/proc.js';
import { procMemory } from '../../bench/lib/tree-memory.js';

/**
 * Waits until the tree under `root` has `size` processes and the last one runs `comm`;
 * returns its pids. Waiting for the exec matters: between fork and exec the shell's child
 * still has the shell's TERM trap, and a TERM caught there is lost when it execs.
 */
async function treeOf(root: number, size: number, comm: string): Promise<number[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const pids = processTree(root);
    const last = pids.length >= size ? pids[pids.length - 1] : undefined;
    if ((last !== undefined && commOf(last) === comm) || Date.now() > deadline) return pids;
    await sleep(20);
  }
}

function commOf(pid: number): string {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; }
}

test('stopServer: a server that stops its own children leaves nothing behind', async (t) => {
  const tracker = new Tracker();
  t.after(() => tracker.killAll());
  const proc = spawnServer(
    // The trap is set before the child exists, so a TERM that arrives as soon as the child is
    // seen finds it; single quotes make $! expand when the trap runs; the shell waits for the
    // child to die before it exits, as a server that stops its own children does.
    tracker, 'sh', ['-c', "trap 'kill $!; wait; exit 0' TERM; sleep 30 & wait"], process.cwd(), process.env,
  );
  const watcher = new TreeWatcher(proc.pid, 50);
  watcher.start(tracker);
  const [, child] = await treeOf(proc.pid, 2, 'sleep');
  assert.ok(child !== undefined, 'the shell started its child');
  const into: Stopped = { leftovers: [] };
  const how = await stopServer(tracker, proc, watcher, into);
  assert.equal(how, 'exit 0');
  assert.deepEqual(into, { leftovers: [] });
  assert.ok(!isAlive(child));
});

test('stopServer: a child that left the process group is reported as a leftover and killed', async (t) => {
  const tracker = new Tracker();
  t.after(() => tracker.killAll());
  // setsid: a new session, so the SIGKILL to the server's process group does not reach it.
  const proc = spawnServer(tracker, 'sh', ['-c', 'setsid sleep 30 & wait'], process.cwd(), process.env);
  const watcher = new TreeWatcher(proc.pid, 1000);
  watcher.start(tracker);
  const [, escaped] = await treeOf(proc.pid, 2, 'sleep');
  assert.ok(escaped !== undefined, 'the shell started its child');
  const into: Stopped = { error: 'earlier failure', leftovers: [] };
  const how = await stopServer(tracker, proc, watcher, into);
  assert.equal(how, 'SIGTERM');
  assert.deepEqual(into.leftovers, [escaped]);
  assert.equal(into.error, `earlier failure; left processes behind: ${escaped}`);
  await sleep(100);
  assert.ok(!isAlive(escaped), 'the leftover was killed');
});

test('procMemory reports kB: the RSS of this process agrees with process.memoryUsage()', () => {
  const m = procMemory(process.pid);
  const rssKb = process.memoryUsage().rss / 1024;
  assert.ok(Math.abs(m.rssKb - rssKb) < rssKb * 0.2, `smaps_rollup says ${m.rssKb} kB, Node says ${rssKb} kB`);
  assert.ok(m.ussKb > 0 && m.ussKb <= m.pssKb && m.pssKb <= m.rssKb, JSON.stringify(m));
  assert.deepEqual(procMemory(2 ** 22 + 1), { pid: 2 ** 22 + 1, ussKb: 0, pssKb: 0, rssKb: 0 });
});

test('contextSwitches counts a process blocking: each timer it waits for is at least one switch', async () => {
  const before = contextSwitches(process.pid);
  // Each sleep leaves the loop with nothing to do but wait in epoll: the main thread blocks.
  for (let i = 0; i < 5; i++) await sleep(10);
  assert.ok(contextSwitches(process.pid) - before >= 5, 'five blocking waits, at least five switches');
});
