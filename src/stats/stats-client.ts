/**
 * Reads one stats document from an address, as uwsgitop does: `host:port`, `:port` (this
 * machine) or a unix socket path, served plain (uWSGI `stats`: the document, then EOF) or over
 * HTTP (`stats-http`). Used by `berth top` and the tests.
 *
 * A plain stats server writes as soon as a client connects; an HTTP one waits for a request.
 * So the client sends `GET /` only if nothing came within `httpAfterMs` (or at once with
 * `http: true`), and takes the body of an HTTP answer or the whole stream otherwise.
 */
import net from 'node:net';
import type { StatsDocument } from './document.js';

export interface ReadStatsOptions {
  readonly timeoutMs: number;
  /** The address speaks HTTP (stats-http): ask at once. Unset: find out. */
  readonly http?: boolean;
  readonly httpAfterMs?: number;
}

/** Where to connect: a unix path (has a '/'), or host:port (':port' = 127.0.0.1). */
export function connectTarget(address: string): net.NetConnectOpts {
  const a = address.trim();
  if (a.includes('/')) return { path: a };
  const colon = a.lastIndexOf(':');
  if (colon === -1) throw new Error(`stats address '${address}' has no ':port' (write host:port, :port or a unix socket path)`);
  const host = a.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host, port: Number(a.slice(colon + 1)) };
}

/** The raw text the server sent: the document itself, or an HTTP answer's body. */
export function readStatsText(address: string, opts: ReadStatsOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(connectTarget(address));
    const chunks: Buffer[] = [];
    let asked = false;
    const ask = (): void => {
      if (asked || chunks.length > 0) return;
      asked = true;
      socket.write('GET / HTTP/1.0\r\nAccept: application/json\r\n\r\n');
    };
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`stats ${address}: no complete answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    let probe: NodeJS.Timeout | null = null;
    socket.on('connect', () => {
      if (opts.http === true) ask();
      else probe = setTimeout(ask, opts.httpAfterMs ?? 300);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err) => {
      clearTimeout(deadline);
      if (probe !== null) clearTimeout(probe);
      reject(new Error(`stats ${address}: ${err.message}`));
    });
    socket.on('end', () => {
      clearTimeout(deadline);
      if (probe !== null) clearTimeout(probe);
      socket.end();
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.startsWith('HTTP/1.')) return resolve(text);
      const at = text.indexOf('\r\n\r\n');
      const status = Number(text.slice(9, 12));
      if (status !== 200) return reject(new Error(`stats ${address}: HTTP ${status}`));
      resolve(at === -1 ? '' : text.slice(at + 4));
    });
  });
}

/** Fetch and parse one stats document (uWSGI's or Berth's). */
export async function readStatsDocument(address: string, opts: ReadStatsOptions): Promise<StatsDocument> {
  const text = await readStatsText(address, opts);
  try {
    return JSON.parse(text) as StatsDocument;
  } catch (err) {
    throw new Error(`stats ${address}: the answer is not JSON (${(err as Error).message})`);
  }
}
