/**
 * The vassal's end of the emperor's pipe (fd 3, named by BERTH_VASSAL_PIPE_FD): tells the
 * emperor `accepting` and `ready`, and stops this Berth gracefully (as SIGTERM does) when the
 * pipe reaches EOF, i.e. when the emperor is gone, even killed by SIGKILL.
 */
import { Socket } from 'node:net';

export interface EmperorPipe {
  tell(message: 'accepting' | 'ready'): void;
}

/** The variable naming the vassal's end of its emperor pipe (the emperor sets it to 3). Here, not in vassal.ts, so a vassal does not load the emperor's side. */
export const VASSAL_PIPE_VARIABLE = 'BERTH_VASSAL_PIPE_FD';

export function joinEmperor(env: Readonly<Record<string, string | undefined>>, log: (message: string) => void): EmperorPipe | null {
  const fd = Number(env[VASSAL_PIPE_VARIABLE]);
  if (!Number.isInteger(fd) || fd < 3) return null;
  let socket: Socket;
  try {
    socket = new Socket({ fd, readable: true, writable: true });
  } catch {
    return null;
  }
  // The pipe must not keep a stopped master alive; the arbiter's own handles do while it runs.
  socket.unref();
  let gone = false;
  const lost = (): void => {
    if (gone) return;
    gone = true;
    log('the emperor is gone (its pipe closed): stopping gracefully');
    process.kill(process.pid, 'SIGTERM');
  };
  socket.on('end', lost);
  socket.on('close', lost);
  socket.on('error', lost);
  socket.resume();
  return { tell: (message) => { if (!gone) socket.write(`${message}\n`); } };
}
