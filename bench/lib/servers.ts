// The servers under test. Every one serves the same app file with 2 worker
// processes; the thread count is part of the name so the table is explicit.
// Peers are the Debian packages, run exactly as documented in docs/benchmarks.md.

export interface LaunchContext {
  port: number;
  appDir: string;
  /** Python module path of the WSGI app, e.g. "hello" or "djsite.wsgi". */
  module: string;
  python: string;
  berthBin: string;
  /** Another build's bin/berth.js (`--base`), for the *-base servers of an A/B run. */
  baseBerthBin?: string;
  /** Static scenarios: files to serve under /static (static-map for Berth and uWSGI, alias for nginx). */
  staticDir?: string;
}

export interface ServerSpec {
  name: string;
  /** Shown in the table: processes x threads. */
  workers: string;
  /** For peers: the Berth config with the same thread count, for ratios. */
  comparesTo?: string;
  /** Only run when named in --servers (slower setups, e.g. behind nginx). */
  optIn?: boolean;
  command(ctx: LaunchContext): { command: string; args: string[] };
}

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROCESSES = '2';

/** The launcher of the build under test, or of the base build for an A/B run. */
function launcher(ctx: LaunchContext, base: boolean): string {
  if (!base) return ctx.berthBin;
  if (ctx.baseBerthBin === undefined) throw new Error('the *-base servers need --base PATH (another build\'s bin/berth.js)');
  return ctx.baseBerthBin;
}

function berth(threads: string, extra: readonly string[] = [], base = false) {
  return (ctx: LaunchContext) => ({
    command: process.execPath,
    args: [launcher(ctx, base), '--http', `127.0.0.1:${ctx.port}`, '--chdir', ctx.appDir,
      '--module', ctx.module, '--master', '--processes', PROCESSES, '--threads', threads,
      '--python', ctx.python, '--disable-logging', ...extra,
      ...(ctx.staticDir !== undefined ? ['--static-map', `/static=${ctx.staticDir}`] : [])],
  });
}

function uwsgi(listenOption: '--http' | '--http-socket') {
  // --die-on-term: uWSGI 2.0 otherwise treats SIGTERM as "reload".
  // Debian builds the HTTP router as a plugin: without "http" in --plugin,
  // `--http` is rejected as an ambiguous prefix of --http-socket.
  const plugins = listenOption === '--http' ? 'python3,http' : 'python3';
  return (ctx: LaunchContext) => ({
    command: 'uwsgi',
    args: ['--plugin', plugins, listenOption, `127.0.0.1:${ctx.port}`, '--master',
      '--processes', PROCESSES, '--threads', '1', '--chdir', ctx.appDir, '--module', ctx.module,
      '--disable-logging', '--die-on-term',
      ...(ctx.staticDir !== undefined ? ['--static-map', `/static=${ctx.staticDir}`] : [])],
  });
}

function gunicorn(workerClass: 'sync' | 'gthread') {
  return (ctx: LaunchContext) => ({
    command: 'gunicorn',
    args: ['--workers', PROCESSES, '--worker-class', workerClass,
      ...(workerClass === 'gthread' ? ['--threads', '2'] : []),
      '--bind', `127.0.0.1:${ctx.port}`, '--chdir', ctx.appDir, `${ctx.module}:application`],
  });
}

function behindNginx(backend: 'berth' | 'berth-master' | 'berth-nobatch' | 'berth-smap' | 'berth-smap-direct' | 'uwsgi' | 'uwsgi-smap' | 'static', threads = 1, base = false) {
  return (ctx: LaunchContext) => ({
    command: process.execPath,
    args: [join(dirname(fileURLToPath(import.meta.url)), 'behind-nginx.js'), backend, String(ctx.port), ctx.appDir, ctx.module, ctx.python, launcher(ctx, base), ctx.staticDir ?? '', String(threads)],
  });
}

export const SERVERS: readonly ServerSpec[] = [
  // The default (http-direct as HTTP_DIRECT_BY_DEFAULT says: on, the workers accept themselves).
  { name: 'berth', workers: '2p x 1t', command: berth('1') },
  { name: 'berth-t2', workers: '2p x 2t', command: berth('2') },
  // http-direct off, named: every request crosses the master, whatever the default is.
  { name: 'berth-master', workers: '2p x 1t', optIn: true, comparesTo: 'berth', command: berth('1', ['--http-direct=false']) },
  { name: 'berth-master-t2', workers: '2p x 2t', optIn: true, comparesTo: 'berth-t2', command: berth('2', ['--http-direct=false']) },
  // http-direct on, named: the workers accept on the HTTP port and serve whole requests themselves.
  { name: 'berth-direct', workers: '2p x 1t', optIn: true, command: berth('1', ['--http-direct']) },
  { name: 'berth-direct-t2', workers: '2p x 2t', optIn: true, command: berth('2', ['--http-direct']) },
  // lazy-apps: every worker imports the app (no forking Python parent).
  { name: 'berth-lazy', workers: '2p x 1t', optIn: true, command: berth('1', ['--lazy-apps']) },
  { name: 'uwsgi-http', workers: '2p x 1t (+router)', comparesTo: 'berth', command: uwsgi('--http') },
  { name: 'uwsgi-http-socket', workers: '2p x 1t', comparesTo: 'berth', command: uwsgi('--http-socket') },
  { name: 'gunicorn-sync', workers: '2p x 1t', comparesTo: 'berth', command: gunicorn('sync') },
  { name: 'gunicorn-gthread', workers: '2p x 2t', comparesTo: 'berth-t2', command: gunicorn('gthread') },
  { name: 'nginx-berth', workers: 'nginx + 2p x 1t', optIn: true, command: behindNginx('berth') },
  { name: 'nginx-uwsgi', workers: 'nginx + 2p x 1t', optIn: true, comparesTo: 'nginx-berth', command: behindNginx('uwsgi') },
  // The same with 2 threads per worker.
  { name: 'nginx-berth-t2', workers: 'nginx + 2p x 2t', optIn: true, command: behindNginx('berth', 2) },
  { name: 'nginx-uwsgi-t2', workers: 'nginx + 2p x 2t', optIn: true, comparesTo: 'nginx-berth-t2', command: behindNginx('uwsgi', 2) },
  // The same with a static-map of /static on both sides (the seed deployments' ini); Berth
  // routes through the master by default, -direct with uwsgi-direct = true.
  { name: 'nginx-berth-smap', workers: 'nginx + 2p x 1t', optIn: true, command: behindNginx('berth-smap') },
  { name: 'nginx-berth-smap-direct', workers: 'nginx + 2p x 1t', optIn: true, command: behindNginx('berth-smap-direct') },
  { name: 'nginx-uwsgi-smap', workers: 'nginx + 2p x 1t', optIn: true, comparesTo: 'nginx-berth-smap', command: behindNginx('uwsgi-smap') },
  // The same with uwsgi-direct = false: every request through the master (Berth before uwsgi-direct).
  { name: 'nginx-berth-master', workers: 'nginx + 2p x 1t', optIn: true, command: behindNginx('berth-master') },
  // The same with uwsgi-direct-batch = false: the direct accept threads keep the normal policy.
  { name: 'nginx-berth-nobatch', workers: 'nginx + 2p x 1t', optIn: true, command: behindNginx('berth-nobatch') },
  // A/B against another build of Berth (`--base other-checkout/bin/berth.js`): same options,
  // compared with the build under test, so "Berth÷peer" reads "this build ÷ the base build".
  { name: 'berth-base', workers: '2p x 1t', optIn: true, comparesTo: 'berth', command: berth('1', [], true) },
  { name: 'berth-direct-base', workers: '2p x 1t', optIn: true, comparesTo: 'berth-direct', command: berth('1', ['--http-direct'], true) },
  { name: 'berth-direct-t2-base', workers: '2p x 2t', optIn: true, comparesTo: 'berth-direct-t2', command: berth('2', ['--http-direct'], true) },
  { name: 'berth-lazy-base', workers: '2p x 1t', optIn: true, comparesTo: 'berth-lazy', command: berth('1', ['--lazy-apps'], true) },
  { name: 'nginx-berth-base', workers: 'nginx + 2p x 1t', optIn: true, comparesTo: 'nginx-berth', command: behindNginx('berth', 1, true) },
  // Observability on (issue 13): the stats server over HTTP and /metrics on its own port, both
  // subscribed to the core's diagnostics channels; compared with plain berth (the 3% budget).
  { name: 'berth-stats', workers: '2p x 1t', optIn: true, comparesTo: 'berth', command: berth('1', ['--stats', '127.0.0.1:0', '--stats-http', '--metrics', '127.0.0.1:0']) },
  // nginx alone serving the static scenarios' files (location /static/ { alias …; }).
  { name: 'nginx-static', workers: 'nginx 1 worker', optIn: true, comparesTo: 'berth', command: behindNginx('static') },
  // The static scenarios' ceiling in Node: a bare `net` server writing each file as one kept
  // response (bench/lib/bare-node.ts); Berth's master serves static files on the same runtime.
  { name: 'bare-node', workers: 'node 1 process', optIn: true, comparesTo: 'berth', command: bareNode },
];

function bareNode(ctx: LaunchContext) {
  if (ctx.staticDir === undefined) throw new Error('bare-node serves the static scenarios only (--only static-10k,static-1m)');
  return { command: process.execPath, args: [join(dirname(fileURLToPath(import.meta.url)), 'bare-node.js'), String(ctx.port), ctx.staticDir] };
}
