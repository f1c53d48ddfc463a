/**
 * Sends one fuzz input on a new loopback connection, in the pieces the mutation chose (one
 * write each), then half-closes; collects the answer until the server closes or a deadline.
 */
import { connect } from 'node:net';

export interface Exchanged {
  readonly data: Buffer;
  /** The server closed (FIN or reset) before the deadline. */
  readonly closed: boolean;
  readonly ms: number;
  /** The client's port: an HTTP front passes it to the app as REMOTE_PORT. */
  readonly localPort: number;
}

export function sendInput(port: number, bytes: Buffer, splits: readonly number[], deadlineMs: number): Promise<Exchanged> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    let settled = false;
    let localPort = 0;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed, ms: performance.now() - t0, localPort });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('close', () => finish(true));
    // A reset (the server closed while bytes were unread) is a close too.
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      localPort = socket.localPort ?? 0;
      const cuts = [0, ...splits, bytes.length];
      let i = 0;
      const writeNext = (): void => {
        if (settled || socket.destroyed) return;
        if (i + 1 >= cuts.length) {
          socket.end();
          return;
        }
        const piece = bytes.subarray(cuts[i]!, cuts[i + 1]!);
        i++;
        if (piece.length > 0) socket.write(piece);
        // A separate event-loop turn per piece, so each goes out in its own segment.
        setImmediate(writeNext);
      };
      writeNext();
    });
  });
}
