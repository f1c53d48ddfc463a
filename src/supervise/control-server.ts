/**
 * The control socket berth ctl talks to: a unix socket (mode 600: whoever can use it can stop
 * programs) answering control-protocol.ts requests about the side programs and the web workers
 * (the program named `web`: status, and restart = a graceful reload).
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { ProgramSpec } from '../config/program-spec.js';
import { EXIT, parseRequest, type ControlReply, type ControlRequest } from './control-protocol.js';
import type { Program } from './program.js';
import type { Programs } from './programs.js';

export const WEB = 'web';

export interface WebFacts {
  readonly state: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly workers: number;
  readonly generation: number;
}

export interface ControlDeps {
  readonly programs: Programs;
  readonly web: () => WebFacts;
  readonly restartWeb: () => void;
  /** Re-reads the ini: the side programs it declares now, or the problems as lines. */
  readonly reread: () => readonly ProgramSpec[] | readonly string[];
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const SIGNALS = ['HUP', 'INT', 'QUIT', 'KILL', 'TERM', 'USR1', 'USR2', 'STOP', 'CONT'];

/** Whether something answers on a unix socket path (another Berth), within a second. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 1000);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

export class ControlServer {
  readonly #deps: ControlDeps;
  readonly #server: net.Server;
  readonly #path: string;
  #listening = false;

  constructor(path: string, deps: ControlDeps) {
    this.#path = path;
    this.#deps = deps;
    this.#server = net.createServer((socket) => this.#serve(socket));
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

  #serve(socket: net.Socket): void {
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
      void this.#answer(req, socket).catch((err: unknown) => socket.end(reply({ ok: false, exit: EXIT.failed, message: (err as Error).message })));
    });
  }

  async #answer(req: ControlRequest, socket: net.Socket): Promise<void> {
    const programs = this.#deps.programs;
    const name = req.name ?? 'all';
    if (req.cmd === 'reread' || req.cmd === 'update') {
      const specs = this.#deps.reread();
      if (specs.length > 0 && typeof specs[0] === 'string') return void socket.end(reply({ ok: false, exit: EXIT.failed, message: `the ini has problems; nothing changed:\n${(specs as readonly string[]).join('\n')}` }));
      const fresh = specs as readonly ProgramSpec[];
      const plan = req.cmd === 'reread' ? programs.plan(fresh) : await programs.update(fresh);
      return void socket.end(reply({ ok: true, exit: EXIT.ok, plan }));
    }
    const isWeb = name === WEB;
    const targets = name === 'all' ? [...programs.list] : programs.find(name);
    if (!isWeb && targets.length === 0 && name !== 'all') return void socket.end(reply({ ok: false, exit: EXIT.failed, message: `no program named '${name}' (berth ctl status lists them)` }));
    switch (req.cmd) {
      case 'status': {
        const rows = [...(name === 'all' || isWeb ? [this.#webRow()] : []), ...(isWeb ? [] : targets.map((p) => ({ ...p.status() })))];
        const down = rows.some((r) => r.state !== 'RUNNING');
        return void socket.end(reply({ ok: true, exit: down ? EXIT.notRunning : EXIT.ok, programs: rows }));
      }
      case 'start':
      case 'stop':
      case 'restart': {
        if (isWeb) {
          if (req.cmd !== 'restart') return void socket.end(reply({ ok: false, exit: EXIT.failed, message: `the web workers cannot be ${req.cmd === 'stop' ? 'stopped' : 'started'} by berth ctl: berth --stop stops Berth; berth ctl restart web reloads them gracefully` }));
          this.#deps.restartWeb();
          return void socket.end(reply({ ok: true, exit: EXIT.ok, message: 'web: graceful reload requested' }));
        }
        const messages: string[] = [];
        let failed = false;
        if (req.cmd !== 'start') await Promise.all(targets.map((p) => p.stop()));
        if (req.cmd !== 'stop') {
          for (const p of targets) {
            const why = programs.start(p);
            if (why !== null) { failed = true; messages.push(`${p.name}: ERROR (${why})`); }
          }
        }
        for (const p of targets) if (!messages.some((m) => m.startsWith(`${p.name}:`))) messages.push(`${p.name}: ${req.cmd === 'stop' ? 'stopped' : 'started'}`);
        return void socket.end(reply({ ok: !failed, exit: failed ? EXIT.failed : EXIT.ok, message: messages.join('\n'), programs: targets.map((p) => ({ ...p.status() })) }));
      }
      case 'signal': {
        const sig = (req.signal ?? '').toUpperCase().replace(/^SIG/, '');
        if (!SIGNALS.includes(sig)) return void socket.end(reply({ ok: false, exit: EXIT.usage, message: `'${req.signal ?? ''}' is not a signal berth ctl sends (${SIGNALS.join(', ')})` }));
        const sent = targets.filter((p) => p.signal(`SIG${sig}` as NodeJS.Signals));
        const missed = targets.filter((p) => !sent.includes(p));
        return void socket.end(reply({ ok: missed.length === 0, exit: missed.length === 0 ? EXIT.ok : EXIT.failed, message: [...sent.map((p) => `${p.name}: signalled ${sig}`), ...missed.map((p) => `${p.name}: ERROR (not running)`)].join('\n') }));
      }
      case 'tail':
        return this.#tail(req, targets, socket);
    }
  }

  #tail(req: ControlRequest, targets: Program[], socket: net.Socket): void {
    if (targets.length !== 1) return void socket.end(reply({ ok: false, exit: EXIT.usage, message: 'tail takes one program name' }));
    const p = targets[0] as Program;
    const stream = req.stream ?? 'stdout';
    const lines = p.tail(p.spec.redirectStderr ? 'all' : stream, req.lines ?? 20);
    if (req.follow !== true) return void socket.end(reply({ ok: true, exit: EXIT.ok, lines }));
    socket.write(reply({ ok: true, exit: EXIT.ok, lines }));
    const stop = p.follow((s, line) => { if (s === stream || p.spec.redirectStderr) socket.write(`${JSON.stringify({ line })}\n`); });
    socket.on('close', stop);
  }

  #webRow(): Record<string, unknown> {
    const w = this.#deps.web();
    const up = Date.now() - w.startedAt;
    return { name: WEB, program: WEB, state: w.state, pid: w.pid, ready: w.state === 'RUNNING', restarts: w.generation - 1, startedAt: w.startedAt, uptimeMs: up, exitCode: null, description: `master pid ${w.pid}, ${w.workers} worker(s), generation ${w.generation}` };
  }
}

function reply(r: ControlReply): string {
  return `${JSON.stringify(r)}\n`;
}
