/**
 * uWSGI options Berth does not implement, so that a real uWSGI ini file gets a precise answer
 * instead of "unknown option". `accepted` ones are harmless and ignored (the reason says why);
 * `planned` ones are refused with what to do meanwhile, because silently ignoring, say,
 * `harakiri` would remove a safety net the user believes they have.
 */
import { accepted, planned, type OptionSpec, type ValueNote } from './option-spec.js';

/** Plugins Berth has built in: Python itself (any python/python3/python311 build) and the HTTP front. */
function checkPlugins(value: string | null): ValueNote | undefined {
  const names = (value ?? '').split(/[\s,]+/).filter((n) => n !== '');
  const foreign = names.filter((n) => !/^python\d*$/.test(n) && n !== 'http');
  if (foreign.length === 0) return undefined;
  return {
    severity: 'problem',
    message: `plugin${foreign.length > 1 ? 's' : ''} ${foreign.map((n) => `'${n}'`).join(', ')} not available in Berth`,
    fix: 'Berth has Python and the HTTP front built in and loads no other plugins; remove the plugin (python/python3 may stay)',
  };
}

function checkLazyApps(value: string | null): ValueNote | undefined {
  if (value === null || !/^(false|0|no|off)$/i.test(value.trim())) return undefined;
  return {
    severity: 'warning',
    message: 'lazy-apps = false has no effect',
    fix: 'Berth cannot preload the app in the master; every worker imports it (as with lazy-apps = true)',
  };
}

const NO_STATS = 'remove it; the stats server is not implemented yet';
const FOREGROUND = 'remove it and run Berth in the foreground under systemd or supervisor';
const ROTATE = 'remove it and rotate the log with logrotate (copytruncate) meanwhile';
const ACCESS_LOG = 'remove it; Berth writes uWSGI-style request lines and custom log formats are not implemented yet';
const RECYCLE = 'remove it; worker recycling is not implemented yet (restart Berth to recycle workers)';
const HARAKIRI = 'remove it and bound request time in the app or with nginx proxy_read_timeout; harakiri is not implemented yet';
const RESTART = 'remove it and restart Berth after a deploy; reload triggers are not implemented yet';
const ROUTING = 'do it in the app or in nginx; internal routing is not implemented yet';
const FIXED_WORKERS = 'set processes = N; adaptive worker counts are not implemented yet';
const GREEN = 'use threads = N; async loops are not implemented yet';

export const COMPAT_OPTIONS: readonly OptionSpec[] = [
  accepted('enable-threads', 'bool', 'Processes', 'threads always work in Berth workers', { short: 'T' }),
  accepted('plugin', 'string', 'Processes', 'Python and the HTTP front are built in (other plugin names are refused)', { aliases: ['plugins'], repeatable: true, check: checkPlugins }),
  accepted('plugin-dir', 'path', 'Processes', 'plugins are built in, so no plugin directory is read', { aliases: ['plugins-dir'] }),
  accepted('lazy-apps', 'bool', 'Processes', 'Berth currently imports the app in every worker, as lazy-apps = true does', { check: checkLazyApps }),
  accepted('lazy', 'bool', 'Processes', 'Berth currently imports the app in every worker, as lazy does'),
  accepted('die-on-term', 'bool', 'Processes', 'SIGTERM already stops Berth gracefully'),
  accepted('strict', 'bool', 'Config files', 'Berth is always strict: unknown options are errors'),
  accepted('need-app', 'bool', 'Application', 'Berth never starts without a loadable app'),
  accepted('single-interpreter', 'bool', 'Python', 'each Berth worker runs exactly one interpreter', { short: 'i' }),
  accepted('no-orphans', 'bool', 'Processes', 'workers always exit when the master goes away'),
  accepted('thunder-lock', 'bool', 'Processes', 'the master accepts connections, so workers need no accept lock'),
  accepted('post-buffering', 'size', 'Limits and timeouts', 'Berth always buffers request bodies before calling the app'),
  accepted('http-keepalive', 'string', 'Listening', 'Berth keeps HTTP/1.1 connections alive by default', { optionalValue: true }),
  accepted('http-auto-chunked', 'bool', 'Listening', 'Berth chunks HTTP/1.1 responses that have no Content-Length by itself'),
  accepted('log-master', 'bool', 'Logging', 'the Berth master always writes the log'),
  accepted('ignore-sigpipe', 'bool', 'Processes', 'a client that goes away never raises SIGPIPE in a Berth worker'),
  accepted('ignore-write-errors', 'bool', 'Logging', 'Berth does not report client disconnects as app errors'),
  accepted('disable-write-exception', 'bool', 'Application', 'Berth never raises client disconnects into the app'),
  accepted('memory-report', 'bool', 'Logging', 'has no effect until the stats server exists'),

  planned('protocol', 'string', 'Listening', 'remove it: http and http-socket listeners already speak HTTP'),
  planned('https', 'string', 'Listening', 'terminate TLS in nginx or Caddy in front of Berth meanwhile', { repeatable: true }),
  planned('stats', 'string', 'Logging', NO_STATS, { aliases: ['stats-server'] }),
  planned('stats-http', 'bool', 'Logging', NO_STATS),
  planned('pidfile', 'path', 'Processes', 'remove it and let systemd or supervisor track the master process meanwhile'),
  planned('pidfile2', 'path', 'Processes', 'remove it and let systemd or supervisor track the master process meanwhile'),
  planned('daemonize', 'path', 'Processes', `${FOREGROUND}, and use logto = <file> for the log`, { short: 'd' }),
  planned('daemonize2', 'path', 'Processes', `${FOREGROUND}, and use logto = <file> for the log`),
  planned('master-fifo', 'path', 'Processes', 'remove it and use signals (SIGTERM stops, SIGHUP will reload) meanwhile', { repeatable: true }),
  planned('procname-prefix', 'string', 'Processes', 'remove it; process titles are not set yet'),
  planned('procname-prefix-spaced', 'string', 'Processes', 'remove it; process titles are not set yet'),
  planned('procname', 'string', 'Processes', 'remove it; process titles are not set yet'),
  planned('auto-procname', 'bool', 'Processes', 'remove it; process titles are not set yet'),
  planned('uid', 'string', 'Processes', 'start Berth as the target user (systemd User=) meanwhile'),
  planned('gid', 'string', 'Processes', 'start Berth with the target group (systemd Group=) meanwhile'),
  planned('umask', 'string', 'Processes', 'set UMask= in the systemd unit meanwhile'),
  planned('harakiri', 'seconds', 'Limits and timeouts', HARAKIRI, { short: 't' }),
  planned('harakiri-verbose', 'bool', 'Limits and timeouts', HARAKIRI),
  planned('max-requests', 'int', 'Processes', RECYCLE, { short: 'R' }),
  planned('max-requests-delta', 'int', 'Processes', RECYCLE),
  planned('min-worker-lifetime', 'seconds', 'Processes', RECYCLE),
  planned('max-worker-lifetime', 'seconds', 'Processes', RECYCLE),
  planned('reload-on-rss', 'size', 'Processes', RECYCLE),
  planned('evil-reload-on-rss', 'size', 'Processes', RECYCLE),
  planned('reload-on-as', 'size', 'Processes', RECYCLE),
  planned('limit-as', 'size', 'Processes', RECYCLE),
  planned('reload-mercy', 'seconds', 'Processes', 'remove it; graceful reload is not implemented yet'),
  planned('worker-reload-mercy', 'seconds', 'Processes', 'remove it; graceful reload is not implemented yet'),
  planned('touch-reload', 'path', 'Processes', RESTART, { repeatable: true }),
  planned('touch-chain-reload', 'path', 'Processes', RESTART, { repeatable: true }),
  planned('touch-logreopen', 'path', 'Logging', ROTATE, { repeatable: true }),
  planned('py-autoreload', 'seconds', 'Python', RESTART, { aliases: ['python-autoreload'] }),
  planned('fs-reload', 'path', 'Processes', RESTART, { repeatable: true }),
  planned('chain-reload', 'bool', 'Processes', RESTART),
  planned('cheaper', 'int', 'Processes', FIXED_WORKERS),
  planned('cheaper-initial', 'int', 'Processes', FIXED_WORKERS),
  planned('cheaper-step', 'int', 'Processes', FIXED_WORKERS),
  planned('cheaper-algo', 'string', 'Processes', FIXED_WORKERS),
  planned('async', 'int', 'Processes', GREEN),
  planned('gevent', 'int', 'Processes', GREEN),
  planned('ugreen', 'bool', 'Processes', GREEN),
  planned('offload-threads', 'int', 'Processes', 'remove it; Berth has no offload threads yet'),
  planned('log-maxsize', 'size', 'Logging', ROTATE),
  planned('log-backupname', 'path', 'Logging', ROTATE),
  planned('log-reopen', 'bool', 'Logging', ROTATE),
  planned('log-4xx', 'bool', 'Logging', ACCESS_LOG),
  planned('log-5xx', 'bool', 'Logging', ACCESS_LOG),
  planned('log-slow', 'int', 'Logging', ACCESS_LOG),
  planned('log-format', 'string', 'Logging', ACCESS_LOG, { aliases: ['logformat'] }),
  planned('log-date', 'string', 'Logging', ACCESS_LOG, { aliases: ['logdate'], optionalValue: true }),
  planned('log-x-forwarded-for', 'bool', 'Logging', ACCESS_LOG),
  planned('logger', 'string', 'Logging', ACCESS_LOG, { repeatable: true }),
  planned('req-logger', 'string', 'Logging', ACCESS_LOG, { repeatable: true }),
  planned('route', 'string', 'Application', ROUTING, { repeatable: true }),
  planned('route-uri', 'string', 'Application', ROUTING, { repeatable: true }),
  planned('route-host', 'string', 'Application', ROUTING, { repeatable: true }),
  planned('add-header', 'string', 'Application', ROUTING, { repeatable: true }),
];
