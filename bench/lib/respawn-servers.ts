// The servers of the respawn/memory bench (bench/respawn.ts): the Django app with
// the app loaded once and forked (preload) or loaded by every worker (lazy).
//
// uWSGI runs with --http-socket, not --http: the HTTP router would be a second
// child of the master, and the bench finds the workers as the leaves of the
// process tree (bench/lib/tree-memory.ts).
//
// minKillIntervalMs keeps uWSGI out of its crash-loop brake, so the bench measures
// a respawn and not a deliberate pause: uWSGI sleeps 2 s ("worker respawning too
// fast") when more workers than it has die within ~2 s (whole seconds). Berth's
// brake (a worker that dies within 1 s of its start) is avoided for every server
// by letting each new worker serve 1.1 s first (respawn-run.ts); gunicorn has none.

export interface RespawnContext {
  port: number;
  appDir: string;
  module: string;
  python: string;
  berthBin: string;
  processes: number;
}

export interface RespawnServer {
  name: string;
  /** How the app gets into the workers, shown in the table. */
  loading: string;
  minKillIntervalMs: number;
  /** Log lines that say the server throttled a respawn on purpose. */
  throttled?: RegExp;
  command(ctx: RespawnContext): { command: string; args: string[] };
}

function berth(extra: string[]) {
  return (ctx: RespawnContext) => ({
    command: process.execPath,
    args: [ctx.berthBin, '--http', `127.0.0.1:${ctx.port}`, '--chdir', ctx.appDir,
      '--module', ctx.module, '--master', '--processes', String(ctx.processes), '--threads', '1',
      '--python', ctx.python, '--disable-logging', ...extra],
  });
}

function uwsgi(extra: string[]) {
  return (ctx: RespawnContext) => ({
    command: 'uwsgi',
    args: ['--plugin', 'python3', '--http-socket', `127.0.0.1:${ctx.port}`, '--master',
      '--processes', String(ctx.processes), '--threads', '1', '--chdir', ctx.appDir,
      '--module', ctx.module, '--disable-logging', '--die-on-term', ...extra],
  });
}

function gunicorn(extra: string[]) {
  return (ctx: RespawnContext) => ({
    command: 'gunicorn',
    args: ['--workers', String(ctx.processes), '--worker-class', 'sync', ...extra,
      '--bind', `127.0.0.1:${ctx.port}`, '--chdir', ctx.appDir, `${ctx.module}:application`],
  });
}

const UWSGI_THROTTLE = /worker respawning too fast/;

export const RESPAWN_SERVERS: readonly RespawnServer[] = [
  { name: 'berth', loading: 'preload (default)', minKillIntervalMs: 0, command: berth([]) },
  { name: 'berth-lazy', loading: 'lazy-apps', minKillIntervalMs: 0, command: berth(['--lazy-apps']) },
  { name: 'uwsgi', loading: 'preforking (default)', minKillIntervalMs: 2100, throttled: UWSGI_THROTTLE, command: uwsgi([]) },
  { name: 'uwsgi-lazy', loading: 'lazy-apps', minKillIntervalMs: 2100, throttled: UWSGI_THROTTLE, command: uwsgi(['--lazy-apps']) },
  { name: 'gunicorn', loading: 'import per worker (default)', minKillIntervalMs: 0, command: gunicorn([]) },
  { name: 'gunicorn-preload', loading: '--preload', minKillIntervalMs: 0, command: gunicorn(['--preload']) },
];
