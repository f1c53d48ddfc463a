/** The typed description of one side program ([program:x], attach-daemon*), as the supervisor in src/supervise/ runs it. */

/** How a readiness check is done: a TCP connect, an HTTP GET answered 2xx/3xx, or a command exiting 0. */
export type ReadyCheck =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly text: string }
  | { readonly kind: 'http'; readonly url: string; readonly text: string }
  | { readonly kind: 'cmd'; readonly command: string; readonly text: string };

/** Where a stream of the program goes: Berth's log (AUTO, prefixed with the name), nowhere, or its own file. */
export type OutputTarget =
  | { readonly kind: 'log' }
  | { readonly kind: 'none' }
  | { readonly kind: 'file'; readonly path: string; readonly maxBytes: number; readonly backups: number };

/** Where a program was declared: schema.ts's ValueSource, spelled out here because schema.ts imports this file. */
export interface ProgramSource { readonly kind: 'ini' | 'argv' | 'env' | 'default'; readonly file?: string; readonly line?: number; readonly envName?: string }

export interface ProgramSpec {
  /** The process name (process_name expanded; the program name when numprocs = 1). */
  readonly name: string;
  /** The program (section) it belongs to. */
  readonly program: string;
  /** Which form declared it: a [program:x] section, attach-daemon(2), or smart-attach-daemon. */
  readonly origin: 'program' | 'attach-daemon' | 'smart-attach-daemon';
  /** Where it was declared (file and line of the section header or the option). */
  readonly source: ProgramSource;
  /** Run by /bin/sh -c 'exec …'. */
  readonly command: string;
  readonly directory: string | null;
  readonly environment: readonly (readonly [string, string])[];
  readonly user: string | null;
  readonly umask: number | null;
  readonly autostart: boolean;
  readonly autorestart: 'true' | 'false' | 'unexpected';
  readonly startsecsMs: number;
  readonly startretries: number;
  readonly exitcodes: readonly number[];
  readonly stopsignal: NodeJS.Signals;
  readonly stopwaitMs: number;
  readonly stopasgroup: boolean;
  readonly killasgroup: boolean;
  readonly redirectStderr: boolean;
  readonly stdout: OutputTarget;
  readonly stderr: OutputTarget;
  readonly priority: number;
  /** Programs (by program or process name) that must be ready before this one starts. */
  readonly dependsOn: readonly string[];
  readonly readyCheck: ReadyCheck | null;
  /** Restarted when the web workers reload (SIGHUP, touch-reload, berth ctl restart web). */
  readonly reloadWithWeb: boolean;
  /** smart-attach-daemon: the pidfile the command writes; Berth watches that pid instead of its child. */
  readonly pidfile: string | null;
  /** A signal sent instead of a restart when the web workers reload (attach-daemon2 reloadsignal). */
  readonly reloadSignal: NodeJS.Signals | null;
}

/** supervisor's defaults (supervisord.conf(5)), except stopasgroup/killasgroup, which Berth turns on. */
export const PROGRAM_DEFAULTS = {
  autostart: true,
  autorestart: 'unexpected',
  startsecsMs: 1000,
  startretries: 3,
  exitcodes: [0],
  stopsignal: 'SIGTERM',
  stopwaitMs: 10_000,
  stopasgroup: true,
  killasgroup: true,
  redirectStderr: false,
  logfileMaxBytes: 50 * 1024 * 1024,
  logfileBackups: 10,
  priority: 999,
} as const;

const SIGNAL_NAMES = ['TERM', 'HUP', 'INT', 'QUIT', 'KILL', 'USR1', 'USR2'] as const;

/** supervisor's signal names (TERM, HUP, INT, QUIT, KILL, USR1, USR2), with or without SIG, or a number of one of them. */
export function parseSignalName(text: string): NodeJS.Signals | null {
  const t = text.trim().toUpperCase().replace(/^SIG/, '');
  const byNumber: Record<string, string> = { '1': 'HUP', '2': 'INT', '3': 'QUIT', '9': 'KILL', '10': 'USR1', '12': 'USR2', '15': 'TERM' };
  const name = byNumber[t] ?? t;
  return (SIGNAL_NAMES as readonly string[]).includes(name) ? (`SIG${name}` as NodeJS.Signals) : null;
}

/** `tcp:HOST:PORT`, `http://…`/`https://…`, or `cmd:COMMAND`. */
export function parseReadyCheck(text: string): ReadyCheck | string {
  const t = text.trim();
  if (t.startsWith('http://') || t.startsWith('https://')) {
    try {
      new URL(t);
      return { kind: 'http', url: t, text: t };
    } catch {
      return `'${t}' is not a URL`;
    }
  }
  if (t.startsWith('cmd:') && t.length > 4) return { kind: 'cmd', command: t.slice(4).trim(), text: t };
  const m = /^tcp:(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(t);
  if (m !== null && Number(m[2]) > 0 && Number(m[2]) < 65536) return { kind: 'tcp', host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]), text: t };
  return `'${t}' is not a readiness check`;
}
