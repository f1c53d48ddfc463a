/**
 * The unix socket forked workers connect to (HELLO) and uwsgi-direct workers relay through.
 *
 * Theory of operation: the unix socket that workers forked by the zygote connect to. It lives
 * in a fresh private directory (mkdtemp under the OS temp dir, mode 0700, or handed to the
 * configured uid/gid so workers that dropped privileges can still connect). Each connection
 * must open with HELLO {pid, token} within HELLO_TIMEOUT_MS; a wrong token, another first
 * frame or garbage closes it (and is logged). A good HELLO hands the socket, paused, and any
 * bytes that came after the HELLO to `onHello`, which decides whose channel it is.
 *
 * With uwsgi-direct a worker may instead open with RELAY {token, listener, peer, port}: a
 * connection it accepted on a uwsgi socket but leaves to the master. The socket, paused, and the
 * bytes after the RELAY frame (what the worker had read from the peer) go to `onRelay`.
 */
import { chmodSync, chownSync, closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameDecoder } from '../protocol/worker/decode.js';
import { parseHello, parseRelay, type RelayInfo } from '../protocol/worker/payloads.js';
import { FromWorker } from '../protocol/worker/frames.js';
import { numericId } from '../server/accounts.js';

export const HELLO_TIMEOUT_MS = 10_000;

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface ChannelServerOptions {
  /** Owner for the directory and socket (names or numbers), so dropped-privilege workers can connect. */
  readonly uid: string | null;
  readonly gid: string | null;
  /** A checked HELLO; returns null when the socket was taken, else why it is refused (then it is closed and logged). */
  readonly onHello: (slot: number, pid: number, socket: Socket, initial: Buffer) => string | null;
  /** A checked RELAY; without it RELAY is refused. */
  readonly onRelay?: (relay: RelayInfo, socket: Socket, initial: Buffer) => void;
  readonly log: Log;
}

export class ChannelServer {
  readonly path: string;
  readonly token = randomToken();
  readonly #dir: string;
  readonly #server: Server;
  readonly #opts: ChannelServerOptions;
  readonly #pending = new Set<Socket>();

  private constructor(dir: string, server: Server, opts: ChannelServerOptions) {
    this.#dir = dir;
    this.path = join(dir, 'channel.sock');
    this.#server = server;
    this.#opts = opts;
  }

  static async open(opts: ChannelServerOptions): Promise<ChannelServer> {
    void sweepStaleDirs(tmpdir()).catch(() => undefined);
    const dir = mkdtempSync(join(tmpdir(), 'berth-'));
    chmodSync(dir, 0o700);
    const server = createServer({ pauseOnConnect: false });
    const cs = new ChannelServer(dir, server, opts);
    server.on('connection', (socket) => cs.#accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(cs.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => opts.log('error', `worker channel socket ${cs.path}: ${err.message}`));
      cs.#handOver();
    } catch (err) {
      server.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return cs;
  }

  /** With uid/gid: the workers run as them, so they must be able to reach and write the socket. */
  #handOver(): void {
    const { uid, gid, log } = this.#opts;
    if (uid === null && gid === null) return;
    const u = uid === null ? -1 : numericId(uid, '/etc/passwd');
    const g = gid === null ? -1 : numericId(gid, '/etc/group');
    if (u === null || g === null) {
      log('warn', `cannot resolve ${u === null ? `uid '${uid}'` : `gid '${gid}'`} for the worker channel socket ${this.path}; workers running as it may fail to connect`);
      return;
    }
    try {
      chownSync(this.#dir, u, g);
      chownSync(this.path, u, g);
      chmodSync(this.#dir, 0o710);
      chmodSync(this.path, 0o660);
    } catch (err) {
      log('warn', `cannot hand the worker channel socket ${this.path} to uid ${u} gid ${g}: ${(err as Error).message}`);
    }
  }

  #accept(socket: Socket): void {
    this.#pending.add(socket);
    const decoder = new FrameDecoder();
    const refuse = (why: string): void => {
      this.#opts.log('warn', `worker channel: refused a connection: ${why}`);
      done();
      socket.destroy();
    };
    const timer = setTimeout(() => refuse(`no HELLO within ${HELLO_TIMEOUT_MS / 1000} s`), HELLO_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      this.#pending.delete(socket);
      socket.off('data', onData);
    };
    const onData = (chunk: Buffer): void => {
      let slot: number;
      let hello: { pid: number; token: string };
      try {
        decoder.push(chunk);
        const f = decoder.next();
        if (f === null) return;
        if (f.type === FromWorker.RELAY && this.#opts.onRelay !== undefined) return this.#relay(socket, parseRelay(f.payload), decoder, refuse, done);
        if (f.type !== FromWorker.HELLO) return refuse(`first frame is type 0x${f.type.toString(16)}, not HELLO`);
        slot = f.id;
        hello = parseHello(f.payload);
      } catch (err) {
        return refuse((err as Error).message);
      }
      if (!this.#tokenMatches(hello.token)) return refuse(`HELLO from pid ${hello.pid} (slot ${slot}) has a wrong token`);
      done();
      socket.pause();
      const why = this.#opts.onHello(slot, hello.pid, socket, decoder.takeBuffered());
      if (why !== null) {
        this.#opts.log('warn', `worker channel: refused HELLO from pid ${hello.pid} (slot ${slot}): ${why}`);
        socket.destroy();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => undefined); // a refused or dying peer; the owner of the socket logs what matters
    socket.on('close', () => {
      if (this.#pending.has(socket)) done();
    });
  }

  #relay(socket: Socket, relay: RelayInfo, decoder: FrameDecoder, refuse: (why: string) => void, done: () => void): void {
    if (!this.#tokenMatches(relay.token)) return refuse(`RELAY (socket ${relay.listener}) has a wrong token`);
    done();
    socket.pause();
    // The client's connection from here on, so it half-closes as a listener's do: a client that
    // sent its request and FIN (the worker passes the FIN on) still gets the answer.
    socket.allowHalfOpen = true;
    this.#opts.onRelay!(relay, socket, decoder.takeBuffered());
  }

  #tokenMatches(token: string): boolean {
    return sameInConstantTime(token, this.token);
  }

  /** Stops listening, closes connections that never said HELLO, removes the directory. */
  close(): void {
    for (const s of this.#pending) s.destroy();
    this.#pending.clear();
    // Not awaited: close() waits for every accepted connection, and a worker's may outlive us.
    this.#server.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A directory younger than this may belong to a Berth that is still starting. */
const STALE_AFTER_MS = 60_000;

/**
 * Removes the private directories of masters that were killed (SIGKILL leaves no chance to
 * clean up): ours (same uid), older than a minute, whose socket nobody answers on. A live
 * master's socket accepts the probe, so its directory is never touched.
 */
export async function sweepStaleDirs(parent: string): Promise<number> {
  const uid = process.getuid?.() ?? -1;
  let removed = 0;
  for (const name of readdirSync(parent)) {
    if (!/^berth-[A-Za-z0-9]{6}$/.test(name)) continue;
    const dir = join(parent, name);
    try {
      const st = statSync(dir);
      if (!st.isDirectory() || st.uid !== uid || Date.now() - st.mtimeMs < STALE_AFTER_MS) continue;
      const sockets = readdirSync(dir).filter((f) => f.endsWith('.sock'));
      if (sockets.length === 0) continue;
      const answered = await Promise.all(sockets.map((f) => answers(join(dir, f))));
      if (answered.some((a) => a)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed++;
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return removed;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const timer = setTimeout(() => (s.destroy(), resolve(true)), 1_000); // slow, but maybe alive
    s.once('connect', () => (clearTimeout(timer), s.destroy(), resolve(true)));
    s.once('error', () => (clearTimeout(timer), resolve(false)));
  });
}

/**
 * 16 bytes from the kernel's CSPRNG, as hex. Why not node:crypto: this is the master's one use
 * of it, and importing it costs ~0.3 MiB for as long as the master runs (docs/benchmarks.md,
 * "issue 16 item 5: the master's memory, third pass").
 */
function randomToken(): string {
  const bytes = Buffer.alloc(16);
  const fd = openSync('/dev/urandom', 'r');
  try {
    let got = 0;
    while (got < bytes.length) got += readSync(fd, bytes, got, bytes.length - got, null);
  } finally {
    closeSync(fd);
  }
  return bytes.toString('hex');
}

/** Whether `a` equals `b`, in a time that does not depend on where they first differ. */
function sameInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
