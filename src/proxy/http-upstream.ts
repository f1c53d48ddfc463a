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
import type { Dispatcher, Pool } from 'undici';
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

/** undici's raw header list (name, value, … as bytes) as strings, names in lower case as undici's parsed headers had them. */
function flatten(raw: readonly Buffer[]): string[] {
  const out: string[] = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    out[i] = raw[i]!.toString('latin1').toLowerCase();
    out[i + 1] = raw[i + 1]!.toString('latin1');
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

  /**
   * Through undici's dispatch handler rather than request(): no AbortController, promise or
   * Readable per request — the front's CPU per proxied request is what the bench measures.
   */
  send(out: OutgoingRequest, handler: AttemptHandler): () => void {
    let connected = false;
    let settled = false;
    let abort: ((err: Error) => void) | null = null;
    let resume: (() => void) | null = null;
    let paused = false;
    let unflushed = 0;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      const code = codeOf(err);
      const message = `${code !== '' ? `${code}: ` : ''}${(err as Error).message}`;
      if (!connected && CONNECT_CODES.has(code)) handler.fail('connect', false, message);
      else if (TIMEOUT_CODES.has(code)) handler.fail('timeout', true, message);
      else handler.fail('error', true, message);
    };
    const flushed = (bytes: number): void => {
      unflushed -= bytes;
      if (paused && unflushed <= PAUSE_AT && !settled) {
        paused = false;
        resume?.();
      }
    };
    const headers = forwardRequestHeaders(out.request);
    delete headers['expect'];
    const body = out.body;
    if (body !== null) headers['content-length'] = String(body.totalBytes);
    const dispatch = (pool: Pool): void => {
      if (settled) return;
      pool.dispatch({
        method: out.request.method as Dispatcher.HttpMethod,
        path: out.target,
        headers,
        // undici sends an async iterable as it is, with the socket's backpressure (its types omit it).
        body: body === null ? null : counted(body.replay(BODY_PIECE)) as unknown as Dispatcher.DispatchOptions['body'],
        headersTimeout: out.readTimeoutMs,
        bodyTimeout: out.readTimeoutMs,
      }, {
        onConnect: (abortRequest) => {
          if (settled) abortRequest(new Error('cancelled'));
          else abort = abortRequest;
        },
        onHeaders: (statusCode, rawHeaders, resumeReading) => {
          // Interim 1xx responses are not relayed.
          if (settled || statusCode < 200) return true;
          connected = true;
          resume = resumeReading;
          handler.head(statusCode, STATUS_CODES[statusCode] ?? '', withoutHopByHop(flatten(rawHeaders as unknown as Buffer[])));
          return !settled;
        },
        onData: (chunk) => {
          if (settled) return false;
          const bytes = chunk.length;
          unflushed += bytes;
          noteReadGarbage(bytes);
          handler.body(chunk, () => flushed(bytes));
          if (unflushed > PAUSE_AT) paused = true;
          return !paused;
        },
        onComplete: () => {
          if (settled) return;
          settled = true;
          handler.end();
        },
        onError: (err) => {
          // An error with a socket already used means the request may have been sent.
          if (!CONNECT_CODES.has(codeOf(err))) connected = true;
          fail(err);
        },
      });
    };
    this.#pool.then(dispatch, fail);
    return () => {
      if (settled) return;
      settled = true;
      abort?.(new Error('cancelled'));
    };
  }

  close(): Promise<void> {
    return this.#pool.then((pool) => pool.close()).catch(() => undefined);
  }
}
