/**
 * An HTTP backend: one undici Pool (keep-alive connections) per backend, responses streamed
 * back with backpressure.
 *
 * Theory of operation: undici owns connections and HTTP/1.1 parsing; this module maps its
 * outcomes onto the proxy's three failure kinds. A connect error (refused, unreachable, no
 * such socket, connect-timeout) means nothing reached the backend. The response body is read
 * with pause/resume: at most PAUSE_AT unflushed bytes are in Berth before the backend's
 * socket stops being read, so a large response passes in constant memory. undici is loaded
 * with the first HTTP backend, so a Berth that proxies nothing never reads it.
 */
import { STATUS_CODES } from 'node:http';
import type { Pool } from 'undici';
import type { BackendSpec } from '../config/schema.js';
import { noteReadGarbage } from '../server/young-collection.js';
import { forwardRequestHeaders, withoutHopByHop } from './forward-headers.js';
import type { AttemptHandler, OutgoingRequest, Transport } from './transport.js';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EACCES', 'ECONNABORTED', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** Unflushed response bytes past which the backend is not read. */
const PAUSE_AT = 256 * 1024;
const BODY_PIECE = 64 * 1024;

function codeOf(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code === 'UND_ERR_CONNECT' || e.code === undefined ? (e.cause?.code ?? e.code ?? '') : e.code;
}

/** undici's header object as a flat list. */
function flatten(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}

/** The stored body's pieces, each counted as garbage once read (see young-collection.ts). */
async function* counted(pieces: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  for await (const piece of pieces) {
    noteReadGarbage(piece.length);
    yield piece;
  }
}

export class HttpUpstream implements Transport {
  readonly #pool: Promise<Pool>;

  constructor(spec: BackendSpec, connectTimeoutMs: number) {
    const t = spec.target;
    const origin = t.kind === 'unix' ? 'http://localhost' : `http://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    this.#pool = import('undici').then(({ Pool }) => new Pool(origin, {
      connect: t.kind === 'unix' ? { socketPath: t.path, timeout: connectTimeoutMs } : { timeout: connectTimeoutMs },
      pipelining: 1,
    }));
  }

  send(out: OutgoingRequest, handler: AttemptHandler): () => void {
    const controller = new AbortController();
    let connected = false;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled || controller.signal.aborted) return;
      settled = true;
      const code = codeOf(err);
      const message = `${code !== '' ? `${code}: ` : ''}${(err as Error).message}`;
      if (!connected && CONNECT_CODES.has(code)) handler.fail('connect', false, message);
      else if (TIMEOUT_CODES.has(code)) handler.fail('timeout', true, message);
      else handler.fail('error', true, message);
    };
    const headers = forwardRequestHeaders(out.request);
    delete headers['expect'];
    const body = out.body;
    if (body !== null) headers['content-length'] = String(body.totalBytes);
    this.#pool.then((pool) => pool.request({
      method: out.request.method,
      path: out.request.target,
      headers,
      body: body === null ? null : counted(body.replay(BODY_PIECE)),
      signal: controller.signal,
      headersTimeout: out.readTimeoutMs,
      bodyTimeout: out.readTimeoutMs,
      onInfo: () => undefined,
    } as Parameters<Pool['request']>[0])).then((res) => {
      connected = true;
      if (controller.signal.aborted) {
        res.body.destroy();
        return;
      }
      handler.head(res.statusCode, STATUS_CODES[res.statusCode] ?? '', withoutHopByHop(flatten(res.headers)));
      let unflushed = 0;
      const stream = res.body;
      stream.on('data', (chunk: Buffer) => {
        unflushed += chunk.length;
        noteReadGarbage(chunk.length);
        if (unflushed > PAUSE_AT) stream.pause();
        handler.body(chunk, () => {
          unflushed -= chunk.length;
          if (unflushed <= PAUSE_AT && stream.isPaused() && !settled) stream.resume();
        });
      });
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        handler.end();
      });
      stream.on('error', fail);
    }, (err: unknown) => {
      // An error with a socket already used means the request may have been sent.
      if (!CONNECT_CODES.has(codeOf(err))) connected = true;
      fail(err);
    });
    return () => {
      settled = true;
      controller.abort();
    };
  }

  close(): Promise<void> {
    return this.#pool.then((pool) => pool.close()).catch(() => undefined);
  }
}
