/**
 * What berth ctl's requests do to a Berth's side programs and its web workers (the program named
 * `web`: status, and restart = a graceful reload), answered over control-socket.ts.
 */
import type net from 'node:net';
import type { ProgramSpec } from '../config/program-spec.js';
import { EXIT, STOPPED_STATES, type ControlRequest } from './control-protocol.js';
import { ControlSocket, reply } from './control-socket.js';
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

export const SIGNALS = ['HUP', 'INT', 'QUIT', 'KILL', 'TERM', 'USR1', 'USR2', 'STOP', 'CONT'];

/** supervisorctl's code for a name it does not know (4.2.5, a plain NAME: "no such process"): status 4, others 1. */
export function unknownNameExit(cmd: ControlRequest['cmd']): number {
  return cmd === 'status' ? EXIT.unknownName : EXIT.failed;
}

/** supervisor's RUNNING_STATES: a start of a program in one is "already started", and not a failure. */
const STARTED_STATES: readonly string[] = ['RUNNING', 'STARTING', 'BACKOFF'];

export class ControlServer {
  readonly #deps: ControlDeps;
  readonly #socket: ControlSocket;

  constructor(path: string, deps: ControlDeps) {
    this.#deps = deps;
    this.#socket = new ControlSocket(path, (req, socket) => this.#answer(req, socket));
  }

  listen(): Promise<void> {
    return this.#socket.listen();
  }

  close(): void {
    this.#socket.close();
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
    if (!isWeb && targets.length === 0 && name !== 'all') return void socket.end(reply({ ok: false, exit: unknownNameExit(req.cmd), message: `${name}: ERROR (no program named '${name}'; berth ctl status lists them)` }));
    switch (req.cmd) {
      case 'status': {
        const rows = [...(name === 'all' || isWeb ? [this.#webRow()] : []), ...(isWeb ? [] : targets.map((p) => ({ ...p.status() })))];
        const down = rows.some((r) => STOPPED_STATES.includes(String(r.state)));
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
        if (req.cmd === 'stop') for (const p of targets) if (STOPPED_STATES.includes(p.state)) messages.push(`${p.name}: ERROR (not running)`);
        if (req.cmd !== 'start') await Promise.all(targets.map((p) => p.stop()));
        if (req.cmd !== 'stop') {
          for (const p of targets) {
            if (STARTED_STATES.includes(p.state)) { messages.push(`${p.name}: ERROR (already started)`); continue; }
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
        return void socket.end(reply({ ok: missed.length === 0, exit: missed.length === 0 ? EXIT.ok : EXIT.deadProgram, message: [...sent.map((p) => `${p.name}: signalled ${sig}`), ...missed.map((p) => `${p.name}: ERROR (not running)`)].join('\n') }));
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
