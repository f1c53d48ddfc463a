/**
 * One active health probe against one backend: an HTTP GET for `http://` backends, a uwsgi
 * packet for `uwsgi://` backends (the reply is the raw HTTP response uWSGI writes), or a bare
 * TCP/unix connect. Each resolves with pass/fail and a short detail, never rejects, and is
 * bounded by the spec's timeout.
 */
import { connect, type Socket } from 'node:net';
import { encodeUwsgiRequest, RawHttpResponseParser } from '../../protocol/uwsgi/client.js';
import type { HealthSpec } from '../../config/health-spec.js';

export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Where a backend listens, from its URL: `http://10.0.0.5:9001`, `uwsgi://h:3031`, `uwsgi:///run/app.sock`. */
export interface ProbeTarget {
  readonly protocol: 'http' | 'uwsgi';
  readonly host: string;
  readonly port: number;
  /** A unix socket path, or '' for TCP. */
  readonly path: string;
}

export type Probe = (target: ProbeTarget, spec: HealthSpec) => Promise<ProbeResult>;

export function probeTarget(url: string): ProbeTarget | null {
  const m = /^(http|uwsgi):\/\/(?:(\/.+)|\[([0-9a-fA-F:.]+)\]:(\d+)|([^:/[\]]+):(\d+))\/?$/.exec(url);
  if (!m) return null;
  const protocol = m[1] as 'http' | 'uwsgi';
  if (m[2] !== undefined) return { protocol, host: '', port: 0, path: m[2] };
  const port = Number(m[4] ?? m[6]);
  return port > 0 && port < 65536 ? { protocol, host: (m[3] ?? m[5])!, port, path: '' } : null;
}

/** The probe the spec and the backend call for. */
export const probeBackend: Probe = (target, spec) => {
  if (spec.mode === 'connect') return exchange(target, spec, null);
  const host = target.path !== '' ? 'localhost' : target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const request = target.protocol === 'http'
    ? Buffer.from(`GET ${spec.path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: berth-health-check\r\nConnection: close\r\n\r\n`, 'latin1')
    : uwsgiCheckPacket(target, spec.path, host);
  return exchange(target, spec, request);
};

/** nginx's uwsgi_params for a GET of `path` with no body. */
function uwsgiCheckPacket(target: ProbeTarget, path: string, host: string): Buffer {
  const q = path.indexOf('?');
  return encodeUwsgiRequest([
    'REQUEST_METHOD', 'GET', 'REQUEST_URI', path, 'PATH_INFO', q < 0 ? path : path.slice(0, q), 'QUERY_STRING', q < 0 ? '' : path.slice(q + 1),
    'SERVER_PROTOCOL', 'HTTP/1.1', 'REQUEST_SCHEME', 'http', 'CONTENT_LENGTH', '', 'CONTENT_TYPE', '',
    'REMOTE_ADDR', '127.0.0.1', 'REMOTE_PORT', '0', 'SERVER_NAME', target.host || 'localhost', 'SERVER_PORT', String(target.port),
    'HTTP_HOST', host, 'HTTP_USER_AGENT', 'berth-health-check',
  ]);
}

/**
 * Connects, writes `request` (null: connect only), and reads the response head. The socket is
 * always destroyed at the end, so a probe leaves nothing open whatever the backend does.
 */
function exchange(target: ProbeTarget, spec: HealthSpec, request: Buffer | null): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket: Socket = target.path !== '' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
    let settled = false;
    let connected = false;
    const finish = (ok: boolean, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, detail });
    };
    const timer = setTimeout(() => finish(false, `timeout after ${spec.timeoutMs}ms`), spec.timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => finish(false, `${connected ? 'read' : 'connect'} ${err.code ?? err.message}`));
    socket.on('connect', () => {
      connected = true;
      if (request === null) finish(true, 'connected');
      else socket.write(request);
    });
    if (request === null) return;
    const parser = new RawHttpResponseParser({
      onHead: (head) => {
        const ok = head.statusCode >= spec.statusMin && head.statusCode <= spec.statusMax;
        finish(ok, `status ${head.statusCode}`);
      },
      onBody: () => undefined,
      onMessageEnd: () => undefined,
      onError: (err) => finish(false, `bad response: ${err.message}`),
    }, { maxHeadBytes: 16384 });
    socket.on('data', (chunk: Buffer) => parser.execute(chunk));
    socket.on('end', () => finish(false, 'closed before a response'));
  });
}
