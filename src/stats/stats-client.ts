/**
 * Fetches one stats document from a stats address, as uwsgitop does: connect, read to EOF,
 * JSON.parse (`berth top`, the tests). Works with uWSGI's plain server, its `stats-http` mode (which answers with an
 * HTTP head as soon as a client connects) and any HTTP server that waits for a request.
 *
 * Theory of operation: a plain stats server writes its document on accept and closes, so the
 * reader first just listens. If the peer says nothing for `probeMs`, it is an HTTP server
 * waiting for a request: the reader sends `GET / HTTP/1.0` and reads the answer to EOF. An
 * `http://` address skips the wait. A reply that starts with `HTTP/` has its head (and chunked
 * framing, RFC 9112 §7.1) removed before parsing.
 */
import { connect, type Socket } from 'node:net';
import { parseAddress } from '../config/address.js';
import type { StatsDocument } from './document.js';

export type StatsAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly http: boolean; readonly path: string; readonly text: string }
  | { readonly kind: 'unix'; readonly path: string; readonly http: false; readonly text: string };

/** `host:port`, `:port` (this machine), `[::1]:port`, `http://host:port/path`, or a unix socket path; null when it is none of these. */
export function parseStatsAddress(text: string): StatsAddress | null {
  const t = text.trim();
  const url = /^http:\/\/(\[[0-9A-Fa-f:.]+\]|[^/:]+)(?::(\d{1,5}))?(\/.*)?$/.exec(t);
  if (url !== null) {
    const port = url[2] === undefined ? 80 : Number(url[2]);
    if (port > 65535) return null;
    const host = url[1]!.replace(/^\[|\]$/g, '');
    return { kind: 'tcp', host, port, http: true, path: url[3] ?? '/', text: t };
  }
  const a = parseAddress(t, process.cwd());
  if (!a.ok) return null;
  if (a.value.kind === 'unix') return { kind: 'unix', path: a.value.path, http: false, text: a.value.path };
  // A listener's "every interface" is, for a client, this machine.
  return { kind: 'tcp', host: a.value.host === '' ? '127.0.0.1' : a.value.host, port: a.value.port, http: false, path: '/', text: t };
}

export interface ReadOptions {
  /** The whole exchange must finish within this time. */
  readonly timeoutMs: number;
  /** Silence after connecting that marks an HTTP server waiting for a request. */
  readonly probeMs?: number;
  /** Aborting closes the connection at once (the reader rejects). */
  readonly signal?: AbortSignal;
}

/** Removes an HTTP response head (and chunked framing); refuses a status other than 200. */
export function httpBody(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('the HTTP answer has no complete head');
  const head = raw.subarray(0, end).toString('latin1');
  const status = /^HTTP\/\d\.\d (\d{3})/.exec(head);
  if (status === null) throw new Error('the answer is not HTTP/1.x');
  if (status[1] !== '200') throw new Error(`the server answered HTTP ${status[1]} (expected 200 with the stats JSON)`);
  const body = raw.subarray(end + 4);
  return /^transfer-encoding:[ \t]*chunked[ \t]*$/im.test(head) ? dechunk(body) : body;
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) throw new Error('truncated chunked body');
    const size = parseInt(body.subarray(at, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size)) throw new Error('bad chunk size');
    if (size === 0) return Buffer.concat(parts);
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** The raw bytes the server sends until it closes (after a GET, for HTTP). */
function exchange(address: StatsAddress, options: ReadOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = address.kind === 'unix' ? connect(address.path) : connect(address.port, address.host);
    const chunks: Buffer[] = [];
    let asked = false;
    const ask = (): void => {
      if (asked) return;
      asked = true;
      const host = address.kind === 'tcp' ? (address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`) : 'localhost';
      const path = address.kind === 'tcp' ? address.path : '/';
      socket.write(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
    };
    let probe: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      done();
      socket.destroy();
      reject(new Error(`no complete answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const abort = (): void => {
      done();
      socket.destroy();
      reject(new Error('stopped'));
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    const done = (): void => {
      clearTimeout(deadline);
      clearTimeout(probe);
      options.signal?.removeEventListener('abort', abort);
    };
    socket.on('connect', () => {
      if (address.http) ask();
      else probe = setTimeout(ask, options.probeMs ?? 300);
    });
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(probe);
      chunks.push(chunk);
    });
    socket.on('end', () => {
      done();
      socket.end();
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', (err) => {
      done();
      reject(err);
    });
  });
}

/** The document's text: what a plain server sent, or an HTTP answer's body. Rejects with a message a person can act on. */
export async function fetchStatsText(address: StatsAddress, options: ReadOptions): Promise<string> {
  let raw: Buffer;
  try {
    raw = await exchange(address, options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ECONNREFUSED' ? 'connection refused (nothing listens there: is the server running with this stats address?)'
      : code === 'ENOENT' ? 'no such unix socket'
      : code === 'EACCES' ? 'permission denied (run as the user the server runs as)'
      : (err as Error).message;
    throw new Error(`cannot read stats from ${address.text}: ${why}`);
  }
  try {
    return (raw.subarray(0, 5).toString('latin1') === 'HTTP/' ? httpBody(raw) : raw).toString('utf8');
  } catch (err) {
    throw new Error(`${address.text} did not answer with stats: ${(err as Error).message} — is it the server's stats address?`);
  }
}

/** One stats document, parsed (not yet checked: see readStatsView). */
export async function fetchStatsDocument(address: StatsAddress, options: ReadOptions): Promise<unknown> {
  const text = await fetchStatsText(address, options);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${address.text} did not answer with stats: not a JSON document (${Buffer.byteLength(text)} bytes) — is it the server's stats address?`);
  }
}

function parsed(address: string): StatsAddress {
  const a = parseStatsAddress(address);
  if (a === null) throw new Error(`'${address}' is not a stats address: write host:port, :port, http://host:port/ or a unix socket path`);
  return a;
}

/** `fetchStatsText` for an address written as text. */
export function readStatsText(address: string, options: ReadOptions): Promise<string> {
  return fetchStatsText(parsed(address), options);
}

/** `fetchStatsDocument` for an address written as text. */
export async function readStatsDocument(address: string, options: ReadOptions): Promise<StatsDocument> {
  return (await fetchStatsDocument(parsed(address), options)) as StatsDocument;
}
