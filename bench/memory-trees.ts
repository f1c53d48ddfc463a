/**
 * Whole process trees against each other (issue 16, item 5), hello app, 2 workers × 1 thread,
 * each after 2 s of wrk: Berth (`http`: master + zygote + workers + guard shells) against
 * uWSGI --http-socket and against nginx → uWSGI (`socket`) plus one bare Node process that only
 * listens — the tree Berth replaces, with Node's floor added since Berth's master is a Node
 * process. PSS (from smaps_rollup) sums to what a tree really costs; the workers' PSS is
 * compared on its own too. Interleaved rounds; prints each round and the medians.
 * Run: bash scripts/build.sh && node dist/bench/memory-trees.js [rounds]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childrenOf, processTree } from './lib/proc.js';
import { procMemory, treeRoles } from './lib/tree-memory.js';
import { freePort, untilAnswered } from './lib/http-probe.js';

const ROOT = process.cwd();
const ROUNDS = Number(process.argv[2] ?? 3);
const APPS = join(ROOT, 'test', 'fixtures', 'apps');
const MiB = 1024;

interface TreeFigures {
  readonly total: number;
  readonly master: number;
  /** Everything between the master and the workers (Berth's zygote), and guard shells. */
  readonly others: number;
  readonly workers: number;
  readonly front: number;
}

const pss = (pids: readonly number[]): number => pids.reduce((s, p) => s + procMemory(p).pssKb, 0) / MiB;

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}

async function measureTree(command: string, args: string[], url: string, split: (root: number) => TreeFigures): Promise<TreeFigures> {
  const proc = spawn(command, args, { stdio: 'ignore' });
  try {
    await untilAnswered(url, proc);
    return split(proc.pid!);
  } finally {
    await stop(proc);
  }
}

function masterTree(root: number): TreeFigures {
  const roles = treeRoles(root);
  const master = pss([root]);
  const workers = pss(roles.workers);
  const others = pss([...roles.parents, ...roles.helpers]);
  return { total: master + workers + others, master, others, workers, front: 0 };
}

/** behind-nginx.js's children: the uWSGI master (its workers below it) and nginx (its worker below it); the launcher is not counted. */
function nginxTree(launcher: number): TreeFigures {
  const tops = childrenOf(launcher);
  const comm = (p: number): string => execFileSync('cat', [`/proc/${p}/comm`], { encoding: 'utf8' }).trim();
  const uwsgi = tops.find((p) => comm(p) === 'uwsgi')!;
  const nginx = tops.filter((p) => p !== uwsgi).flatMap((p) => processTree(p));
  const app = masterTree(uwsgi);
  const front = pss(nginx);
  return { ...app, total: app.total + front, front };
}

async function bareNode(): Promise<number> {
  const proc = spawn(process.execPath, ['-e', "require('node:net').createServer().listen(0, '127.0.0.1')"], { stdio: 'ignore' });
  await sleep(1500);
  const mib = pss([proc.pid!]);
  await stop(proc);
  return mib;
}

const rows = new Map<string, TreeFigures[]>();
const keep = (name: string, f: TreeFigures): void => void rows.set(name, [...(rows.get(name) ?? []), f]);
const f1 = (x: number): string => x.toFixed(1);
for (let r = 1; r <= ROUNDS; r++) {
  let port = await freePort();
  const berth = await measureTree(process.execPath, [join(ROOT, 'bin', 'berth.js'), '--http', `127.0.0.1:${port}`, '--chdir', APPS, '--module', 'hello', '--processes', '2', '--threads', '1', '--python', '/usr/bin/python3', '--disable-logging'], `http://127.0.0.1:${port}/`, masterTree);
  port = await freePort();
  const direct = await measureTree('uwsgi', ['--plugin', 'python3', '--http-socket', `127.0.0.1:${port}`, '--master', '--processes', '2', '--threads', '1', '--chdir', APPS, '--module', 'hello', '--disable-logging', '--die-on-term'], `http://127.0.0.1:${port}/`, masterTree);
  port = await freePort();
  const behind = await measureTree(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', 'behind-nginx.js'), 'uwsgi', String(port), APPS, 'hello', '/usr/bin/python3', '', '', '1'], `http://127.0.0.1:${port}/`, nginxTree);
  const bare = await bareNode();
  const withNode = { ...behind, total: behind.total + bare, front: behind.front + bare };
  for (const [name, f] of [['berth', berth], ['uwsgi-http-socket', direct], ['nginx+uwsgi+bare-node', withNode]] as const) {
    keep(name, f);
    console.log(`round ${r} ${name}: tree PSS ${f1(f.total)} MiB (master ${f1(f.master)}, zygote/helpers ${f1(f.others)}, workers ${f1(f.workers)}, front ${f1(f.front)})`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('\n| tree (PSS MiB, medians) | total | master | zygote/helpers | workers (2) | nginx / bare Node |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name, fs] of rows) {
  const m = (k: keyof TreeFigures): string => f1(median(fs.map((f) => f[k])));
  console.log(`| ${name} | ${m('total')} | ${m('master')} | ${m('others')} | ${m('workers')} | ${m('front')} |`);
}
