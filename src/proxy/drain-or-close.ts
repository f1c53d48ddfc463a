/** Waits for a backend socket to drain or close, leaving no listener behind on a socket that lives on. */
import type net from 'node:net';

/** Both listeners go once either fires: the socket is kept for other requests (a pooled or re-connected one). */
export function drainOrClose(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
