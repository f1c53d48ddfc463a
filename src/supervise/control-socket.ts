/**
 * The unix socket berth ctl connects to (mode 600: whoever can use it can stop programs): reads
 * one request line, checks it (control-protocol.ts) and hands it to a handler that answers.
 * Shared by a Berth's side programs (control-server.ts) and an emperor's vassals (emperor-control.ts).
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { EXIT, parseRequest, type ControlReply, type ControlRequest } from './control-protocol.js';

export type ControlHandler = (req: ControlRequest, socket: net.Socket) => Promise<void>;

/** Whether something answers on a unix socket path (another Berth), within a second. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 1000);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

export function reply(r: ControlReply): string {
  return `${JSON.stringify(r)}\n`;
}

export class ControlSocket {
  readonly #server: net.Server;
  readonly #path: string;
  #listening = false;

  constructor(path: string, handler: ControlHandler) {
    this.#path = path;
    this.#server = net.createServer((socket) => serve(socket, handler));
  }

  /** Listens; a stale socket file (nobody answers) is replaced, a live one is another instance's and refused. */
  async listen(): Promise<void> {
    if (existsSync(this.#path)) {
      if (await answers(this.#path)) throw new Error(`ctl-socket ${this.#path}: another Berth answers there; give this instance its own ctl-socket (or pidfile)`);
      unlinkSync(this.#path);
    }
    const mask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(this.#path, () => { this.#server.off('error', reject); resolve(); });
      });
    } finally {
      process.umask(mask);
    }
    chmodSync(this.#path, 0o600);
    this.#listening = true;
  }

  close(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#server.close();
    try { unlinkSync(this.#path); } catch { /* already gone */ }
  }
}

function serve(socket: net.Socket, handler: ControlHandler): void {
  socket.setEncoding('utf8');
  let buffered = '';
  socket.on('error', () => undefined);
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    const nl = buffered.indexOf('\n');
    if (nl < 0) return;
    const line = buffered.slice(0, nl);
    buffered = '';
    socket.removeAllListeners('data');
    const req = parseRequest(line);
    if (typeof req === 'string') return void socket.end(reply({ ok: false, exit: EXIT.usage, message: req }));
    void handler(req, socket).catch((err: unknown) => socket.end(reply({ ok: false, exit: EXIT.failed, message: (err as Error).message })));
  });
}
