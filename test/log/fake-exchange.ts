/**
 * Finished exchanges for the log tests, built the way the fronts build them: the HTTP front's
 * request object + buildCgiBlock, the uwsgi front's buildUwsgiEnviron; then status, bytes and
 * worker set as the response writer and the pool set them.
 */
import { Exchange, type Responder } from '../../src/server/exchange.js';
import { CgiNameCache, buildCgiBlock } from '../../src/server/http-environ.js';
import { buildUwsgiEnviron } from '../../src/server/uwsgi-environ.js';
import { ScriptNameRule } from '../../src/server/script-name.js';
import { RequestBody } from '../../src/server/request-body.js';

const responder: Responder = {
  sendHead: () => true,
  sendBody: (_chunk, flushed) => flushed(),
  sendEnd: () => undefined,
  sendFull: () => undefined,
  sendError: () => undefined,
  headSent: true,
};

export interface Finished {
  status?: number;
  bytesSent?: number;
  workerId?: number;
  aborted?: boolean;
  /** performance.now()-clock start. */
  startedAt?: number;
}

function finish(ex: Exchange, f: Finished): Exchange {
  ex.status = f.status ?? 200;
  ex.bytesSent = f.bytesSent ?? 0;
  ex.workerId = f.workerId ?? 1;
  if (f.aborted === true) ex.abort();
  ex.finished = true;
  return ex;
}

/** An exchange that arrived on the HTTP front. */
export function httpExchange(
  req: { method?: string; target?: string; versionMinor?: 0 | 1; headers?: string[]; body?: Buffer; remoteAddress?: string },
  done: Finished = {},
): Exchange {
  const request = {
    method: req.method ?? 'GET',
    target: req.target ?? '/',
    versionMinor: req.versionMinor ?? 1,
    headers: req.headers ?? ['Host', 'localhost:8000'],
    remoteAddress: req.remoteAddress ?? '127.0.0.1',
    remotePort: 50000,
    scheme: 'http' as const,
  };
  let body: RequestBody | null = null;
  if (req.body !== undefined) {
    body = new RequestBody();
    body.append(req.body);
  }
  const facts = { remoteAddress: request.remoteAddress, remotePort: 50000, localAddress: '127.0.0.1', localPort: 8000, scheme: 'http' as const };
  const block = buildCgiBlock(request, facts, body?.totalBytes ?? 0, new CgiNameCache());
  if (block === null) throw new Error('test request maps to no CGI block');
  return finish(new Exchange(request, block, body, responder, done.startedAt ?? 1000), done);
}

/** An exchange that arrived on the uwsgi front (vars as nginx's uwsgi_params send them). */
export function uwsgiExchange(vars: string[], done: Finished = {}): Exchange {
  const env = buildUwsgiEnviron(vars, 0, { stripScriptName: false, scriptNames: new ScriptNameRule([]) });
  if (env === null) throw new Error('test vars have a NUL');
  const request = {
    method: env.method, target: env.target, versionMinor: env.versionMinor, headers: env.headers,
    remoteAddress: env.remoteAddress, remotePort: env.remotePort, scheme: env.scheme,
  };
  return finish(new Exchange(request, env.block, null, responder, done.startedAt ?? 1000), done);
}

/** An exchange the HTTP front answered before a CGI block existed (bad request). */
export function earlyErrorExchange(status: number): Exchange {
  const request = { method: '-', target: '-', versionMinor: 1 as const, headers: [], remoteAddress: '127.0.0.1', remotePort: 50000, scheme: 'http' as const };
  return finish(new Exchange(request, '', null, responder, 1000), { status, workerId: 0 });
}
