/** Raw-socket HTTP for tests that must control every byte (smuggling, pipelining, limits). */
import { connect, type Socket } from 'node:net';
import type { Writable } from 'node:stream';

export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `data` to a TCP port on 127.0.0.1 (or a unix socket path) and resolves with everything received until the server closes. */
export function sendUntilClose(to: number | string, data: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = typeof to === 'number' ? connect(to, '127.0.0.1') : connect(to);
    let out = '';
    s.on('connect', () => s.write(data));
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

/**
 * Sends `data` and collects everything until the server closes, `untilIdleMs` passes without
 * bytes, or `until(text)` holds (then `closed` is false: the answer is complete, the connection open).
 */
export async function exchangeRaw(
  port: number,
  data: string | Buffer,
  untilIdleMs = 1500,
  until: (text: string) => boolean = () => false,
): Promise<{ text: string; closed: boolean }> {
  const s = await openSocket(port);
  return new Promise((resolve) => {
    let text = '';
    let timer = setTimeout(done, untilIdleMs);
    let closed = false;
    function done(): void {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    }
    s.setEncoding('latin1');
    s.on('data', (t: string) => {
      text += t;
      clearTimeout(timer);
      if (until(text)) return done();
      timer = setTimeout(done, untilIdleMs);
    });
    s.on('end', () => {
      closed = true;
      done();
    });
    s.on('error', () => done());
    s.write(data);
  });
}

/** Status codes of all responses in a raw byte stream, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

/**
 * Writes `bytes` bytes of 0x61 ('a') to `out` with backpressure, from one reused 1 MiB piece (so
 * the test itself holds no big body), then ends it.
 */
export function pumpBytes(out: Writable, bytes: number): void {
  const piece = Buffer.alloc(1024 * 1024, 0x61);
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, piece.length);
      left -= n;
      if (!out.write(n === piece.length ? piece : piece.subarray(0, n))) {
        out.once('drain', pump);
        return;
      }
    }
    out.end();
  };
  pump();
}
