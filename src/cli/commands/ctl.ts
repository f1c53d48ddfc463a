/**
 * `berth ctl [--ini FILE|--pidfile FILE|--socket PATH] [--json] COMMAND [ARGS]`: supervisorctl
 * for Berth, over the control socket (src/supervise/control-protocol.ts), with its exit codes.
 */
import net from 'node:net';
import { EXIT, type ControlReply, type ControlRequest } from '../../supervise/control-protocol.js';
import { loadEmperorConfig } from '../../config/emperor-config.js';
import { load } from './load.js';

const USAGE = `usage: berth ctl [--ini FILE | --pidfile FILE | --socket PATH] [--json] COMMAND
commands:
  status [NAME|all]        the programs (and the web workers, named web) with state and uptime;
                           against an emperor: its vassals (state, pid, uptime, restarts, throttle)
  start|stop|restart NAME|all
  signal SIG NAME|all      send SIG (HUP, TERM, USR1, …) to the program
  tail [-f] NAME [stdout|stderr]
  reread                   what update would change
  update                   apply the ini's program changes (web workers untouched)
  reload                   a graceful reload of the web workers (= restart web)
NAME: a program (all its processes), one process, or supervisorctl's PROGRAM:* and PROGRAM:PROCESS
exit codes (supervisorctl's): 0 ok, 1 an action failed or an unknown name, 2 usage,
  3 status: a program is STOPPED/EXITED/FATAL, 4 status of an unknown name or Berth cannot be reached,
  7 signal to a program that is not running`;

interface CtlArgs { socket: string | null; json: boolean; request: ControlRequest | null; problem: string | null }

export function parseCtlArgs(argv: readonly string[], cwd: string): CtlArgs {
  let socket: string | null = null;
  let json = false;
  let follow = false;
  const words: string[] = [];
  let problem: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = (): string | null => { const v = argv[++i]; if (v === undefined) problem = `${a} needs a value`; return v ?? null; };
    if (a === '--json') json = true;
    else if (a === '-f' || a === '--follow') follow = true;
    else if (a === '--socket') socket = next();
    else if (a === '--pidfile') { const p = next(); if (p !== null) socket = `${p}.ctl`; }
    else if (a === '--ini') {
      const file = next();
      if (file === null) continue;
      const emperor = loadEmperorConfig({ argv: ['--ini', file], env: process.env, cwd });
      if (emperor.kind === 'ok') {
        if (emperor.config.ctlSocket === null) problem = `${file} runs an emperor without ctl-socket, so berth ctl cannot reach it; add ctl-socket = /run/berth-emperor.ctl under [uwsgi] and restart the emperor`;
        else socket = emperor.config.ctlSocket;
        continue;
      }
      const loaded = load(['--ini', file], cwd);
      if (!loaded.ok) problem = `${file} has problems (berth check --ini ${file} lists them)`;
      else if (loaded.config.ctlSocket === null) problem = `${file} sets neither ctl-socket nor pidfile, so the instance it started has no control socket; add ctl-socket = /run/site.ctl (or pidfile = …) and restart it`;
      else socket = loaded.config.ctlSocket;
    } else words.push(a);
  }
  const [cmd, ...rest] = words;
  let request: ControlRequest | null = null;
  switch (cmd) {
    case undefined: case 'status': request = { cmd: 'status', name: rest[0] ?? 'all' }; break;
    case 'start': case 'stop': case 'restart':
      if (rest[0] === undefined) problem ??= `${cmd} needs a program name (or all)`;
      else request = { cmd, name: rest[0] };
      break;
    case 'reload': request = { cmd: 'restart', name: 'web' }; break;
    case 'signal':
      if (rest.length < 2) problem ??= 'signal needs a signal and a program name: berth ctl signal HUP NAME';
      else request = { cmd, signal: rest[0] as string, name: rest[1] as string };
      break;
    case 'tail':
      if (rest[0] === undefined) problem ??= 'tail needs a program name';
      else if (rest[1] !== undefined && rest[1] !== 'stdout' && rest[1] !== 'stderr') problem ??= `tail: '${rest[1]}' is neither stdout nor stderr`;
      else request = { cmd, name: rest[0], follow, ...(rest[1] !== undefined ? { stream: rest[1] as 'stdout' | 'stderr' } : {}) };
      break;
    case 'update': case 'reread': request = { cmd }; break;
    default: problem ??= `unknown command '${cmd}'`;
  }
  if (socket === null) problem ??= 'which Berth? name it with --ini FILE, --pidfile FILE or --socket PATH';
  return { socket, json, request, problem };
}

/** The supervisorctl-like table: name, state, description. */
export function formatStatusTable(rows: readonly Record<string, unknown>[]): string {
  const width = Math.max(20, ...rows.map((r) => String(r.name).length + 2));
  return rows.map((r) => `${String(r.name).padEnd(width)} ${String(r.state).padEnd(9)} ${String(r.description ?? '')}`.trimEnd()).join('\n') + (rows.length > 0 ? '\n' : '');
}

export async function runCtl(argv: readonly string[]): Promise<number> {
  const args = parseCtlArgs(argv, process.cwd());
  if (args.problem !== null || args.request === null) {
    process.stderr.write(`berth ctl: ${args.problem ?? 'nothing to do'}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const socketPath = args.socket as string;
  const req = args.request;
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let buffered = '';
    let first: ControlReply | null = null;
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    let failed = false;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (first !== null) return;
      failed = true;
      process.stderr.write(`berth ctl: cannot reach Berth at ${socketPath}: ${err.code === 'ENOENT' ? 'no such socket (is it running? was it started with this ini?)' : err.code === 'ECONNREFUSED' ? 'nobody answers (a stale socket: Berth is not running)' : err.code === 'EACCES' ? 'permission denied (the socket is mode 600: run as the user Berth runs as)' : err.message}\n`);
      resolve(EXIT.unreachable);
    });
    process.once('SIGINT', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (first === null) {
          first = JSON.parse(line) as ControlReply;
          show(first, req, args.json);
        } else {
          const l = (JSON.parse(line) as { line: string }).line;
          process.stdout.write(args.json ? `${line}\n` : `${l}\n`);
        }
      }
    });
    socket.on('close', () => {
      if (failed) return;
      if (first === null) {
        process.stderr.write(`berth ctl: ${socketPath} closed without an answer\n`);
        resolve(EXIT.unreachable);
      } else resolve((first as ControlReply).exit);
    });
  });
}

function show(r: ControlReply, req: ControlRequest, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  if (!r.ok && r.message !== undefined) process.stderr.write(`${r.message}\n`);
  if (req.cmd === 'status' && r.programs !== undefined) process.stdout.write(formatStatusTable(r.programs));
  else if (r.ok && r.message !== undefined) process.stdout.write(`${r.message}\n`);
  if (r.plan !== undefined) {
    const p = r.plan;
    const verb = req.cmd === 'update' ? ['added', 'changed (restarted)', 'removed (stopped)'] : ['available', 'changed', 'disappeared'];
    for (const n of p.added) process.stdout.write(`${n}: ${verb[0]}\n`);
    for (const n of p.changed) process.stdout.write(`${n}: ${verb[1]}\n`);
    for (const n of p.removed) process.stdout.write(`${n}: ${verb[2]}\n`);
    if (p.added.length + p.changed.length + p.removed.length === 0) process.stdout.write('No config updates to processes\n');
  }
  if (r.lines !== undefined) for (const l of r.lines) process.stdout.write(`${l}\n`);
}
