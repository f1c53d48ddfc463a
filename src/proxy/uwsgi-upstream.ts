/**
 * A uwsgi backend (a real uWSGI `socket`, or a Berth one): one connection per request, as
 * nginx's uwsgi_pass does, through the client codec of ../protocol/uwsgi/.
 *
 * Theory of operation: connect (bounded by connect-timeout), write the packet (vars from the
 * front's CGI block, nginx's uwsgi_params) then the stored body with the socket's own
 * backpressure, and feed what comes back to RawHttpResponseParser. read-timeout bounds each
 * wait for bytes, as nginx's uwsgi_read_timeout does (a write counts as progress too).
 * Unflushed response bytes past PAUSE_AT
 * stop the socket being read, so a large response passes in constant memory.
 */
import net from 'node:net';
import type { BackendSpec } from '../config/schema.js';
import { encodeUwsgiRequest, RawHttpResponseParser } from '../protocol/uwsgi/client.js';
import { noteReadGarbage } from '../server/young-collection.js';
import { uwsgiVars, withoutHopByHop } from './forward-headers.js';
import type { AttemptHandler, OutgoingRequest, Transport } from './transport.js';

const PAUSE_AT = 256 * 1024;
const BODY_PIECE = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;

export class UwsgiUpstream implements Transport {
  readonly #spec: BackendSpec;

  constructor(spec: BackendSpec) {
    this.#spec = spec;
  }

  send(out: OutgoingRequest, handler: AttemptHandler): () => void {
    const t = this.#spec.target;
    const socket = t.kind === 'unix' ? net.connect(t.path) : net.connect(t.port, t.host);
    let connected = false;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      socket.destroy();
      return true;
    };
    const fail = (kind: 'connect' | 'timeout' | 'error', message: string): void => {
      if (settle()) handler.fail(kind, kind !== 'connect', message);
    };
    // The socket's own idle timer (refreshed by Node on every read and write, no new timer per
    // chunk): connect-timeout until connected, then read-timeout between two reads or writes.
    socket.setTimeout(out.connectTimeoutMs);
    socket.on('timeout', () => {
      if (connected) fail('timeout', `read-timeout: nothing received for ${out.readTimeoutMs} ms`);
      else fail('connect', `connect-timeout: no connection within ${out.connectTimeoutMs} ms`);
    });
    let unflushed = 0;
    const parser = new RawHttpResponseParser({
      onHead: (head) => handler.head(head.statusCode, head.reason, withoutHopByHop(head.headers)),
      // A view into the socket's read, which Node never reuses: no copy per chunk.
      onBody: (chunk) => {
        unflushed += chunk.length;
        noteReadGarbage(chunk.length);
        if (unflushed > PAUSE_AT) socket.pause();
        handler.body(chunk, () => {
          unflushed -= chunk.length;
          if (unflushed <= PAUSE_AT && socket.isPaused() && !settled) socket.resume();
        });
      },
      onMessageEnd: () => {
        if (settle()) handler.end();
      },
      onError: (err) => fail('error', `unusable response: ${err.message}`),
    }, { maxHeadBytes: MAX_HEAD_BYTES, headRequest: out.request.method === 'HEAD' });
    socket.on('connect', () => {
      connected = true;
      socket.setTimeout(out.readTimeoutMs);
      let packet: Buffer;
      try {
        packet = encodeUwsgiRequest(uwsgiVars(out.request, out.cgiBlock(), out.pathInfo, out.body === null ? null : out.body.totalBytes, out.target === out.request.target ? null : out.target));
      } catch (err) {
        fail('error', `the request cannot be put in a uwsgi packet: ${(err as Error).message}`);
        return;
      }
      socket.write(packet);
      if (out.body !== null) void this.#writeBody(socket, out, () => settled);
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      parser.execute(chunk);
    });
    socket.on('end', () => {
      if (!settled) parser.finish();
      if (!settled) fail('error', 'the backend closed the connection before the response was complete');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      fail(connected ? 'error' : 'connect', `${err.code ?? ''} ${err.message}`.trim());
    });
    return () => {
      settle();
    };
  }

  async #writeBody(socket: net.Socket, out: OutgoingRequest, stopped: () => boolean): Promise<void> {
    try {
      for await (const piece of out.body!.replay(BODY_PIECE)) {
        if (stopped()) return;
        noteReadGarbage(piece.length);
        if (!socket.write(piece)) await new Promise<void>((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
      }
    } catch (err) {
      socket.destroy(err as Error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
