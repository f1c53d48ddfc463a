/**
 * http-direct with no worker left to accept (every one FATAL): the master accepts on the
 * workers' HTTP listeners itself, through its front, which answers 503 as on the master path,
 * until the next generation is committed. Without it connections would wait in the backlog.
 */
import { spawn } from 'node:child_process';
import type { Server, Socket } from 'node:net';
import { helperExited } from './listen-early.js';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

// Node cannot dup(2) a descriptor, and closing a server it listens on closes the descriptor,
// which the next generation's workers still need. So a short-lived Python sends each listener
// back over a Node IPC channel (SCM_RIGHTS): the master gets copies it may close, as net.Servers.
const SHARE = [
  'import array, json, os, socket, sys',
  "channel = socket.socket(fileno=int(os.environ['NODE_CHANNEL_FD']))",
  'count = int(sys.argv[1])',
  'for index in range(count):',
  "    line = json.dumps({'cmd': 'NODE_HANDLE', 'type': 'net.Server', 'msg': {'berth': 'fallback', 'listener': index}}) + '\\n'",
  "    channel.sendmsg([line.encode('ascii')], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [4 + index]))])",
  'acks = 0',
  'while acks < count:',
  '    data = channel.recv(4096)',
  '    if not data:',
  '        break',
  "    acks += data.count(b'NODE_HANDLE_ACK')",
  '',
].join('\n');
const SHARE_TIMEOUT_MS = 10_000;

export class FallbackAccept {
  #servers: Server[] = [];
  /** Bumped by stop(): copies arriving for an earlier start are closed at once. */
  #epoch = 0;
  #on = false;

  /**
   * Start accepting on `fds` (the listeners' descriptors, in order) with `python`; each
   * connection goes to `accept` with the index of its listener.
   */
  start(python: string, fds: readonly number[], accept: (socket: Socket, listener: number) => void, log: Log): void {
    if (this.#on || fds.length === 0) return;
    this.#on = true;
    const epoch = this.#epoch;
    const child = spawn(python, ['-I', '-S', '-c', SHARE, String(fds.length)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc', ...fds], timeout: SHARE_TIMEOUT_MS });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('message', (msg: unknown, handle: unknown) => {
      const server = handle as Server | undefined;
      const index = (msg as { listener?: unknown } | null)?.listener;
      if (server === undefined || typeof index !== 'number') return;
      if (epoch !== this.#epoch) {
        server.close();
        return;
      }
      server.on('connection', (socket: Socket) => accept(socket, index));
      this.#servers.push(server);
    });
    child.on('error', (err) => log('warn', `every worker is FATAL, but the master could not take the http-direct listeners to answer 503 (${err.message}): connections wait until a reload`));
    child.on('exit', (code, signal) => {
      if (code !== 0) log('warn', `every worker is FATAL, but the master could not take the http-direct listeners to answer 503 (${helperExited(python, code ?? signal, stderr)}): connections wait until a reload`);
    });
  }

  /** Workers accept again: close the master's copies (the listeners stay open for them). */
  stop(): void {
    this.#epoch++;
    this.#on = false;
    for (const s of this.#servers.splice(0)) s.close();
  }
}
