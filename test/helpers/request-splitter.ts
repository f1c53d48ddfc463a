/** Splits what a scripted HTTP backend reads into whole requests (head + Content-Length body), for tests that answer with exact bytes. */
import type net from 'node:net';

/** Calls `onRequest` with each whole request (its head, and the head with its body) the socket brings, in order. */
export function eachRequest(socket: net.Socket, onRequest: (head: string, whole: string) => void): void {
  let buf = '';
  socket.on('data', (chunk: Buffer) => {
    buf += chunk.toString('latin1');
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.slice(0, end + 4);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      const whole = buf.slice(0, end + 4 + length);
      buf = buf.slice(end + 4 + length);
      onRequest(head, whole);
    }
  });
}
