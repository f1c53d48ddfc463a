// A server's process tree split into roles, and the memory of each process.
//
// Roles, read from /proc alone so that every server is judged the same way:
//   master  = the pid the bench started (Berth's Node master, uWSGI's or gunicorn's master);
//   helpers = shells (comm sh/dash/bash): Berth starts one per process group whose only
//             job is to kill the group if the master dies; they are not workers;
//   parent  = any other process between the master and the workers (Berth's preloading
//             Python parent, which imports the app once and forks the workers);
//   workers = the other processes without children of their own (helpers aside).
// This only holds for servers without extra long-lived helpers of another kind: uWSGI is
// run with --http-socket (its --http router would look like a worker).
//
// USS (unique set size) = Private_Clean + Private_Dirty: what killing that process would
// free. PSS splits each shared page among its sharers, so the PSS of a tree sums to what
// the tree really costs. Both come from /proc/<pid>/smaps_rollup (Linux ≥ 4.14).

import { readdirSync, readFileSync } from 'node:fs';
import { processTree } from './proc.js';

export interface ProcMemory {
  pid: number;
  ussKb: number;
  pssKb: number;
  rssKb: number;
}

export interface TreeRoles {
  master: number;
  parents: number[];
  workers: number[];
  helpers: number[];
}

const HELPER_COMMANDS = new Set(['sh', 'dash', 'bash']);

function comm(pid: number): string {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; }
}

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        if (c.trim() !== '') out.push(Number(c));
      }
    } catch { /* the task exited meanwhile */ }
  }
  return out;
}

export function treeRoles(root: number): TreeRoles {
  const roles: TreeRoles = { master: root, parents: [], workers: [], helpers: [] };
  const alive = new Set(processTree(root));
  for (const pid of alive) {
    if (pid === root) continue;
    if (HELPER_COMMANDS.has(comm(pid))) { roles.helpers.push(pid); continue; }
    const real = children(pid).filter((c) => alive.has(c) && !HELPER_COMMANDS.has(comm(c)));
    (real.length === 0 ? roles.workers : roles.parents).push(pid);
  }
  return roles;
}

export function procMemory(pid: number): ProcMemory {
  const mem: ProcMemory = { pid, ussKb: 0, pssKb: 0, rssKb: 0 };
  let text: string;
  try { text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'); } catch { return mem; }
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  mem.ussKb = field('Private_Clean') + field('Private_Dirty') + field('Private_Hugetlb');
  mem.pssKb = field('Pss');
  mem.rssKb = field('Rss');
  return mem;
}
