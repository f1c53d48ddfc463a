// The servers of the reload bench (bench/reload.ts): how each one is started with
// 2 workers on the Django app, how a reload is asked for (a signal to the master
// or touching a file), and which of its log lines say that a reload started or
// finished, so the table can show how many of the reloads sent really happened.
//
// Log patterns are counted after the server became ready (start-up lines such as
// uWSGI's "spawned uWSGI http 1" are subtracted). `perReload` divides the "done"
// count when one reload logs several such lines (gunicorn: one per new worker).

export interface ReloadContext {
  port: number;
  appDir: string;
  module: string;
  python: string;
  berthBin: string;
  /** The file touched to ask for a reload (exists before the server starts). */
  touchFile: string;
}

export interface LogPatterns {
  started: RegExp | null;
  done: RegExp | null;
  perReload?: number;
  /** Lines that say a reload request was refused or ignored. */
  ignored?: RegExp;
}

export interface ReloadServer {
  name: string;
  /** How the reload is asked for, shown in the table. */
  how: string;
  trigger: { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'touch' };
  /** Only run when named in --servers. */
  optIn?: boolean;
  log: LogPatterns;
  command(ctx: ReloadContext): { command: string; args: string[] };
}

const PROCESSES = '2';

/**
 * Berth's reload log lines (src/master/arbiter.ts and workforce.ts): "SIGHUP: reload of
 * generation 1 requested", "reload done in 812 ms: generation 2 serves with 2 worker(s)",
 * "reload failed: …" / "reload refused: …" / "chain reload stopped at worker 2: …".
 * Reloads asked for while one runs are queued, so "done" can trail "started" at the end.
 * Builds from before the reload work log "SIGHUP (reload) is not supported yet; ignored".
 */
export const BERTH_RELOAD_STARTED = /\breload\b.*\brequested\b/i;
export const BERTH_RELOAD_DONE = /\breload(?:ing)? (?:done|complete|completed|finished)\b/i;
export const BERTH_RELOAD_IGNORED = /\breload\b.*\b(?:not supported|ignored|refused|failed|stopped at)\b/i;

function berth(extra: (ctx: ReloadContext) => string[]) {
  return (ctx: ReloadContext) => ({
    command: process.execPath,
    args: [ctx.berthBin, '--http', `127.0.0.1:${ctx.port}`, '--chdir', ctx.appDir,
      '--module', ctx.module, '--master', '--processes', PROCESSES, '--threads', '1',
      '--python', ctx.python, '--disable-logging', ...extra(ctx)],
  });
}

/**
 * uWSGI's HTTP router with --http-keepalive: without it the router closes every
 * connection after the response, and wrk then counts one "read error" per request,
 * which would hide the reads that a reload really breaks.
 */
function uwsgi(extra: (ctx: ReloadContext) => string[]) {
  return (ctx: ReloadContext) => ({
    command: 'uwsgi',
    args: ['--plugin', 'python3,http', '--http', `127.0.0.1:${ctx.port}`, '--http-keepalive',
      '--master', '--processes', PROCESSES, '--threads', '1', '--chdir', ctx.appDir,
      '--module', ctx.module, '--disable-logging', '--die-on-term', ...extra(ctx)],
  });
}

const berthLog: LogPatterns = { started: BERTH_RELOAD_STARTED, done: BERTH_RELOAD_DONE, ignored: BERTH_RELOAD_IGNORED };

export const RELOAD_SERVERS: readonly ReloadServer[] = [
  {
    name: 'berth-hup', how: 'SIGHUP', trigger: { kind: 'signal', signal: 'SIGHUP' },
    log: berthLog, command: berth(() => []),
  },
  {
    name: 'berth-chain', how: 'touch-chain-reload', trigger: { kind: 'touch' },
    log: berthLog, command: berth((ctx) => ['--touch-chain-reload', ctx.touchFile]),
  },
  {
    name: 'berth-chain-hup', how: 'chain-reload + SIGHUP', trigger: { kind: 'signal', signal: 'SIGHUP' }, optIn: true,
    log: berthLog, command: berth(() => ['--chain-reload']),
  },
  {
    // Graceful reload: the master waits for the workers, then re-executes itself
    // (same pid) and respawns the HTTP router and the workers.
    name: 'uwsgi-hup', how: 'SIGHUP', trigger: { kind: 'signal', signal: 'SIGHUP' },
    log: { started: /binary reloading uWSGI/, done: /spawned uWSGI http 1\b/ },
    command: uwsgi(() => []),
  },
  {
    name: 'uwsgi-chain', how: 'lazy-apps + touch-chain-reload', trigger: { kind: 'touch' },
    log: {
      started: /has been touched\.\.\. chain reload !!!/,
      done: /chain reloading complete/,
      ignored: /but chain reload is already running|chain reload already running/,
    },
    command: uwsgi((ctx) => ['--lazy-apps', '--touch-chain-reload', ctx.touchFile]),
  },
  {
    // gunicorn logs no "reload finished": count the workers booted since ready, 2 per reload.
    name: 'gunicorn-hup', how: 'SIGHUP', trigger: { kind: 'signal', signal: 'SIGHUP' },
    log: { started: /Handling signal: hup/, done: /Booting worker with pid/, perReload: Number(PROCESSES) },
    command: (ctx) => ({
      command: 'gunicorn',
      args: ['--workers', PROCESSES, '--worker-class', 'sync', '--bind', `127.0.0.1:${ctx.port}`,
        '--chdir', ctx.appDir, `${ctx.module}:application`],
    }),
  },
];
