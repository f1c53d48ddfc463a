/**
 * What the stats document reads from Linux /proc: a worker's memory and the kernel's accept
 * queue of a listening TCP socket. Unprivileged reads only; each returns 0 when unknown.
 *
 * The accept queue: for a socket in LISTEN state, /proc/net/tcp{,6} shows the connections
 * waiting for accept() as rx_queue (and the backlog limit as tx_queue). A unix socket's queue
 * is only visible through sock_diag netlink (UNIX_DIAG_RQLEN), which Node cannot open, so for
 * unix sockets the document counts Berth's own dispatch queue only (docs/observability.md).
 */
import { readFileSync } from 'node:fs';
import { PAGE_SIZE_BYTES } from '../worker/proc-memory.js';

export interface ProcMemory { readonly rss: number; readonly vsz: number }

export function readProcMemory(pid: number): ProcMemory {
  if (pid <= 0) return { rss: 0, vsz: 0 };
  try {
    const [size, resident] = readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ');
    // statm counts pages: the kernel's page size (16 or 64 KiB on some arm64 kernels), not 4096.
    return { vsz: Number(size) * PAGE_SIZE_BYTES, rss: Number(resident) * PAGE_SIZE_BYTES };
  } catch {
    return { rss: 0, vsz: 0 };
  }
}

/** Accept-queue length of every TCP socket listening on each port, read once per document. */
export function readListenQueues(): Map<number, number> {
  const queues = new Map<number, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue …; st 0A = LISTEN
      if (f.length < 5 || f[3] !== '0A') continue;
      const port = parseInt(f[1]!.slice(f[1]!.lastIndexOf(':') + 1), 16);
      const rx = parseInt(f[4]!.slice(f[4]!.indexOf(':') + 1), 16);
      queues.set(port, (queues.get(port) ?? 0) + rx);
    }
  }
  return queues;
}
