/**
 * A process's memory, read from Linux /proc (Berth is Linux-only).
 *
 * - readRssBytes(pid): resident set size from /proc/<pid>/statm — one short line, cheap enough
 *   to read for every worker every second (reload-on-rss). RSS counts shared pages fully, so
 *   preloaded (forked) workers look bigger than they cost; that is also what uWSGI's
 *   reload-on-rss compares, so limits carry over unchanged.
 * - readMemoryReport(pid): RSS, PSS and USS from /proc/<pid>/smaps_rollup (Linux ≥ 4.14; falls
 *   back to summing /proc/<pid>/smaps). USS = Private_Clean + Private_Dirty is what killing the
 *   worker would give back; PSS shares each shared page among its users. Slower (the kernel
 *   walks every mapping), so it is for stats and log lines, not a per-second check.
 *
 * Both return null when the process is gone (ENOENT/ESRCH) — a normal race with its exit.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface MemoryReport {
  readonly rssBytes: number;
  readonly pssBytes: number;
  readonly ussBytes: number;
  readonly swapBytes: number;
}

/** statm counts pages of the kernel's base page size; smaps states it ("KernelPageSize: 4 kB"). */
function readPageSize(): number {
  try {
    // The first mapping's entry is enough (KernelPageSize is within its first ~20 lines); the
    // whole file of a Node process is hundreds of KB.
    const fd = openSync('/proc/self/smaps', 'r');
    const buf = Buffer.alloc(8192);
    const n = readSync(fd, buf, 0, buf.length, null);
    closeSync(fd);
    const m = /^KernelPageSize:\s+(\d+) kB$/m.exec(buf.toString('latin1', 0, n));
    if (m !== null) return Number(m[1]) * 1024;
  } catch {
    // fall through: /proc without smaps (a restricted container)
  }
  return 4096;
}

/** The kernel's base page size in bytes (4096 on x86-64; 16 K or 64 K on some arm64 kernels). */
export const PAGE_SIZE_BYTES = readPageSize();

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw err;
  }
}

/** Resident set size in bytes, or null when the process no longer exists. */
export function readRssBytes(pid: number): number | null {
  const text = readProc(pid, 'statm');
  if (text === null) return null;
  // statm: size resident shared text lib data dt (all in pages)
  const resident = Number(text.split(' ')[1]);
  return Number.isFinite(resident) ? resident * PAGE_SIZE_BYTES : null;
}

/** Sums each "Key: N kB" field over every mapping (smaps) or the one rollup entry. */
function sumFields(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) {
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]) * 1024);
  }
  return sums;
}

/** RSS, PSS, USS and swap in bytes, or null when the process no longer exists. */
export function readMemoryReport(pid: number): MemoryReport | null {
  let text: string | null;
  try {
    text = readProc(pid, 'smaps_rollup');
  } catch {
    // Kernels before 4.14 have no smaps_rollup (EACCES/ENOENT differ by kernel): sum smaps.
    text = null;
  }
  if (text === null) text = readProc(pid, 'smaps');
  if (text === null) return null;
  const f = sumFields(text);
  const get = (k: string): number => f.get(k) ?? 0;
  return {
    rssBytes: get('Rss'),
    pssBytes: get('Pss'),
    ussBytes: get('Private_Clean') + get('Private_Dirty'),
    swapBytes: get('Swap'),
  };
}

/** "312 MB": memory for log lines and recycle reasons (MB = 2^20 bytes, as uWSGI counts). */
export function formatMegabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10} MB`;
}
