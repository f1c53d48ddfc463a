// Runs wrk and turns its text report into numbers. wrk prints latencies with
// adaptive units (us/ms/s/m) and throughput as "Requests/sec:"; errors appear
// only when non-zero, so a missing line means zero.

import { spawn } from 'node:child_process';
import type { Tracker } from './proc.js';

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** connect + write + timeout socket errors, plus non-2xx/3xx answers. */
  errors: number;
  /**
   * wrk "read" errors, kept apart: a server that closes the connection after
   * each response (uWSGI --http-socket does, it has no keep-alive) makes wrk
   * count one per request, so they mean "no keep-alive", not failures.
   */
  readErrors: number;
  /** The same socket errors one by one, and non-2xx/3xx answers (the reload bench shows them apart). */
  socket: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
  /** wrk's "Max" latency (responses slower than its 2 s timeout are not in it). */
  maxMs: number;
}

export interface WrkOptions {
  url: string;
  connections: number;
  durationS: number;
  threads?: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };

function toMs(value: string, unit: string): number {
  return Number(value) * (UNIT_MS[unit] ?? NaN);
}

export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!rps) throw new Error(`wrk output has no Requests/sec line:\n${text.slice(-800)}`);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(text);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const requests = /(\d+) requests in/.exec(text);
  const completed = requests ? Number(requests[1]) : 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  // wrk leaves responses slower than its 2 s timeout out of the latency
  // histogram; when every response was that slow it prints "0.00us"
  // percentiles, which would read as "fastest". Report them as Infinity (>2 s),
  // and NaN when nothing completed at all.
  const timeouts = sock ? Number(sock[4]) : 0;
  const max = /^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m|h)\s/m.exec(text);
  const latency = (p: string) => (completed === 0 ? NaN : completed <= timeouts ? Infinity : pct(p));
  return {
    rps: Number(rps[1]),
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    requests: completed,
    errors: (sock ? Number(sock[1]) + Number(sock[3]) + Number(sock[4]) : 0) + (non2xx ? Number(non2xx[1]) : 0),
    readErrors: sock ? Number(sock[2]) : 0,
    socket: sock
      ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: timeouts }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    maxMs: max ? toMs(max[1]!, max[2]!) : NaN,
  };
}

/** wrk is bounded by -d; the extra kill timer only guards against a wedged wrk. */
export function runWrk(tracker: Tracker, opts: WrkOptions): Promise<WrkResult> {
  const threads = Math.min(opts.threads ?? 2, opts.connections);
  const args = [`-t${threads}`, `-c${opts.connections}`, `-d${opts.durationS}s`, '--latency', opts.url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) tracker.add(child.pid);
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    // wrk can overrun -d when its connections are stuck (a full listen queue);
    // SIGINT makes it stop and still print its report, SIGKILL is the backstop.
    const nudge = setTimeout(() => child.kill('SIGINT'), (opts.durationS + 5) * 1000);
    const guard = setTimeout(() => child.kill('SIGKILL'), (opts.durationS + 15) * 1000);
    const clear = () => { clearTimeout(nudge); clearTimeout(guard); };
    child.on('error', (err) => { clear(); reject(new Error(`cannot run wrk: ${err.message}`)); });
    child.on('exit', (code, signal) => {
      clear();
      if (child.pid !== undefined) tracker.remove(child.pid);
      try {
        if (code !== 0 && !/Requests\/sec:/.test(out)) {
          throw new Error(`wrk ${signal ? `killed by ${signal}` : `exited with ${code}`} and printed no report: ${out.slice(-300).trim()}`);
        }
        resolve(parseWrk(out));
      } catch (err) { reject(err); }
    });
  });
}
