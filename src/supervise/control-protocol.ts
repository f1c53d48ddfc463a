/**
 * The control socket's protocol, one JSON object per line each way (pure: no sockets here).
 *
 * client → Berth: {"cmd":"status"|"start"|"stop"|"restart"|"signal"|"tail"|"update"|"reread", "name"?: NAME|"all", "signal"?: "HUP", "stream"?: "stdout"|"stderr", "follow"?: bool, "lines"?: N}
 * Berth → client: {"ok": bool, "exit": N, "message"?: text, "programs"?: [ProgramStatus…], "plan"?: {added, changed, removed}, "lines"?: […]}
 *                 then, for tail -f only, {"line": text} objects until the client closes.
 *
 * Exit codes follow supervisorctl 4.2's (LSB; docs/supervision.md has the table): 0 done (also a
 * start of a running program, a stop of a stopped one); 1 an action failed (an unknown name too); 2 a bad request;
 * 3 status: a program asked about is STOPPED, EXITED or FATAL;
 * 4 status of an unknown name, or Berth cannot be reached (the client decides that one);
 * 7 signal to a program that is not running.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notRunning: 3, unreachable: 4, unknownName: 4, deadProgram: 7 } as const;

/** supervisor's STOPPED_STATES: status exits 3 when a program asked about is in one. */
export const STOPPED_STATES: readonly string[] = ['STOPPED', 'EXITED', 'FATAL'];

export const COMMANDS = ['status', 'start', 'stop', 'restart', 'signal', 'tail', 'update', 'reread'] as const;
export type ControlCommand = typeof COMMANDS[number];

export interface ControlRequest {
  readonly cmd: ControlCommand;
  readonly name?: string;
  readonly signal?: string;
  readonly stream?: 'stdout' | 'stderr';
  readonly follow?: boolean;
  readonly lines?: number;
}

export interface ControlReply {
  readonly ok: boolean;
  readonly exit: number;
  readonly message?: string;
  readonly programs?: readonly Record<string, unknown>[];
  readonly plan?: { readonly added: readonly string[]; readonly changed: readonly string[]; readonly removed: readonly string[] };
  readonly lines?: readonly string[];
}

/** A request line checked, or the reason it is not one. */
export function parseRequest(line: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'not a JSON object';
  const r = v as Record<string, unknown>;
  if (!(COMMANDS as readonly unknown[]).includes(r.cmd)) return `unknown cmd ${JSON.stringify(r.cmd)} (one of ${COMMANDS.join(', ')})`;
  if (r.name !== undefined && typeof r.name !== 'string') return 'name must be a string';
  if (r.signal !== undefined && typeof r.signal !== 'string') return 'signal must be a string';
  if (r.stream !== undefined && r.stream !== 'stdout' && r.stream !== 'stderr') return 'stream must be stdout or stderr';
  if (r.lines !== undefined && (typeof r.lines !== 'number' || !Number.isInteger(r.lines) || r.lines < 1)) return 'lines must be a positive whole number';
  return r as unknown as ControlRequest;
}
