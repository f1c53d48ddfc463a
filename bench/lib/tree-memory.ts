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
// the tree really costs. Both come from /proc/<pid>/smaps_rollup (Linux ≥ 4.14), read by
// Berth's own readMemoryReport (src/worker/proc-memory.ts).

import { readFileSync } from 'node:fs';
import { readMemoryReport, type MemoryReport } from '../../src/worker/proc-memory.js';
import { childrenOf, processTree } from './proc.js';

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

export function treeRoles(root: number): TreeRoles {
  const roles: TreeRoles = { master: root, parents: [], workers: [], helpers: [] };
  const alive = new Set(processTree(root));
  for (const pid of alive) {
    if (pid === root) continue;
    if (HELPER_COMMANDS.has(comm(pid))) { roles.helpers.push(pid); continue; }
    const real = childrenOf(pid).filter((c) => alive.has(c) && !HELPER_COMMANDS.has(comm(c)));
    (real.length === 0 ? roles.workers : roles.parents).push(pid);
  }
  return roles;
}

export function procMemory(pid: number): ProcMemory {
  let report: MemoryReport | null = null;
  try { report = readMemoryReport(pid); } catch { /* not ours to read: zeros, like a process that is gone */ }
  const kb = (bytes: number | undefined) => (bytes ?? 0) / 1024;
  return { pid, ussKb: kb(report?.ussBytes), pssKb: kb(report?.pssBytes), rssKb: kb(report?.rssBytes) };
}

/** VmHWM (peak RSS, MB) of a live process; null once it is gone. */
export function peakRssMb(pid: number): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}
