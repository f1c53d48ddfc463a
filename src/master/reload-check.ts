/**
 * reload-check: the readiness request a reload sends each new worker before traffic moves to it.
 *
 * Theory of operation: a staged worker is READY but not in the pool. The master builds a GET of
 * the configured path with the same CGI block a client's request gets (../server/http-environ.ts)
 * and sends it straight to that worker's channel; the answer is collected here, never written
 * to a socket or the request log. 2xx passes; anything else (or no answer within the limit)
 * refuses the reload. `reload-check = http://host/path` names the Host header; a bare path
 * sends Host: localhost.
 */
import { Exchange, type ExchangeRequest, type Responder } from '../server/exchange.js';
import { buildCgiBlock, CgiNameCache } from '../server/http-environ.js';
import type { WorkerHandle } from '../worker/handle.js';

/** How long a worker may take to answer the check when harakiri is off. */
export const CHECK_TIMEOUT_MS = 30_000;
const BODY_EXCERPT_BYTES = 2048;

export interface CheckTarget {
  readonly host: string;
  readonly port: number;
  readonly target: string;
}

/** `reload-check`'s value as a request: a bare path, or an absolute http URL naming the Host. */
export function checkTarget(value: string): CheckTarget {
  const m = /^https?:\/\/([^/]+)(\/.*)?$/.exec(value);
  if (m === null) return { host: 'localhost', port: 80, target: value };
  const port = /:(\d+)$/.exec(m[1]!);
  return { host: m[1]!, port: port !== null ? Number(port[1]) : 80, target: m[2] ?? '/' };
}

/** What the worker answered: `ok` for 2xx; `why` says what went wrong otherwise. */
export interface CheckAnswer {
  readonly ok: boolean;
  readonly status: number;
  readonly why: string;
}

class CollectingResponder implements Responder {
  headSent = false;
  #status = 0;
  #statusLine = '';
  #body: Buffer[] = [];
  #bytes = 0;
  readonly #done: (status: number, line: string, body: string) => void;

  constructor(done: (status: number, line: string, body: string) => void) {
    this.#done = done;
  }

  sendHead(status: string): boolean {
    this.headSent = true;
    this.#statusLine = status;
    this.#status = parseInt(status, 10);
    return true;
  }

  sendBody(chunk: Buffer, flushed: () => void): void {
    if (this.#bytes < BODY_EXCERPT_BYTES) this.#body.push(chunk);
    this.#bytes += chunk.length;
    flushed();
  }

  sendEnd(): void {
    this.#done(this.#status, this.#statusLine, Buffer.concat(this.#body).toString('utf8', 0, BODY_EXCERPT_BYTES));
  }

  sendFull(status: string, _headers: readonly string[], body: Buffer): void {
    this.headSent = true;
    this.#done(parseInt(status, 10), status, body.toString('utf8', 0, Math.min(body.length, BODY_EXCERPT_BYTES)));
  }

  sendError(status: number, message: string): void {
    this.#done(status, `${status} (from Berth)`, message);
  }
}

/** Sends GET `value` to `w` (READY, not in the pool) and resolves with its answer; never rejects. */
export function checkWorker(w: WorkerHandle, value: string, timeoutMs: number): Promise<CheckAnswer> {
  const t = checkTarget(value);
  const request: ExchangeRequest = {
    method: 'GET', target: t.target, versionMinor: 1, scheme: 'http', remoteAddress: '127.0.0.1', remotePort: 0,
    headers: ['Host', t.host, 'User-Agent', 'berth-reload-check'],
  };
  const facts = { remoteAddress: '127.0.0.1', remotePort: 0, localAddress: '127.0.0.1', localPort: t.port, scheme: 'http' as const };
  const block = buildCgiBlock(request, facts, 0, new CgiNameCache());
  const what = `GET ${t.target} (Host: ${t.host})`;
  if (block === null) return Promise.resolve({ ok: false, status: 0, why: `${what} cannot be sent: its path decodes to a NUL byte` });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, status: 0, why: `no answer to ${what} within ${timeoutMs / 1000} s` }), timeoutMs);
    timer.unref();
    const responder = new CollectingResponder((status, line, body) => {
      clearTimeout(timer);
      const ok = status >= 200 && status < 300;
      const excerpt = body.trim() === '' ? '' : `; its body began: ${JSON.stringify(body.trim().slice(0, 300))}`;
      resolve({ ok, status, why: ok ? '' : `answered ${line} to ${what}${excerpt}` });
    });
    w.send(new Exchange(request, block, null, responder, performance.now()));
  });
}
