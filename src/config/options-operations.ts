/**
 * The option rows for running Berth in production (issue 5): instance control, privileges,
 * reloads, self-healing workers and the log. Same row shape as options.ts, kept apart so
 * each table stays readable.
 */
import type { OptionSpec, ValueNote } from './option-spec.js';

const DAY_MS = 86_400_000;

function checkUmask(value: string | null): ValueNote | undefined {
  if (value !== null && /^0?[0-7]{3}$/.test(value.trim())) return undefined;
  return { severity: 'problem', message: `umask: '${value ?? ''}' is not an octal mask`, fix: 'write three octal digits such as 022 or 027' };
}

function checkIdentity(option: string, example: string) {
  return (value: string | null): ValueNote | undefined => {
    if (value !== null && /^[A-Za-z0-9_.-]+$/.test(value.trim())) return undefined;
    return { severity: 'problem', message: `${option}: '${value ?? ''}' is not a ${option === 'uid' ? 'user' : 'group'} name or number`, fix: `write ${option} = ${example}` };
  };
}

function checkLogFormat(value: string | null): ValueNote | undefined {
  if (value === null || value.trim() === '') return { severity: 'problem', message: 'log-format needs a format', fix: "write log-format = %(addr) %(method) %(uri) => %(status) %(size) bytes in %(msecs) ms" };
  return undefined;
}

const row = (r: Omit<OptionSpec, 'aliases' | 'repeatable' | 'status'> & Partial<Pick<OptionSpec, 'aliases' | 'repeatable'>>): OptionSpec =>
  ({ aliases: [], repeatable: false, status: 'supported', ...r });

export const OPERATIONS_OPTIONS: readonly OptionSpec[] = [
  row({
    name: 'pidfile', type: 'path', field: 'pidfile', group: 'Processes',
    help: "Write the master's pid here. A second Berth started on the same pidfile while the first runs refuses to start and names it; a stale file (dead pid) is replaced. Use it with berth --stop/--reload/--status <pidfile>.",
  }),
  row({
    name: 'pidfile2', type: 'path', field: 'pidfile2', group: 'Processes',
    help: 'A second pidfile with the same content, written once the app is ready (uWSGI writes it after dropping privileges).',
  }),
  row({
    name: 'daemonize', short: 'd', type: 'path', field: 'daemonize', group: 'Processes',
    help: 'Detach from the terminal and log to this file. The command returns once Berth is listening, or prints why it could not start (exit code 1).',
  }),
  row({
    name: 'daemonize2', type: 'path', field: 'daemonize2', group: 'Processes',
    help: 'Like daemonize, but the command returns only once the app is imported and the first worker is ready.',
  }),
  row({
    name: 'uid', type: 'string', field: 'uid', group: 'Processes', check: checkIdentity('uid', 'www-data'),
    help: 'User (name or number) the workers run as, and the master too once its sockets are bound. Needs Berth started as root; that user must be able to read Berth\'s files, the app and, for reloads, the ini files.',
  }),
  row({
    name: 'gid', type: 'string', field: 'gid', group: 'Processes', check: checkIdentity('gid', 'www-data'),
    help: "Group (name or number) the workers run as, and the master too once its sockets are bound. With uid alone, the user's own group is used.",
  }),
  row({
    name: 'umask', type: 'string', field: 'umask', group: 'Processes', check: checkUmask,
    help: 'File-creation mask of Berth and its workers, in octal (022, 027).',
  }),
  row({
    name: 'lazy-apps', aliases: ['lazy'], type: 'bool', default: 'false', field: 'lazyApps', group: 'Processes',
    help: 'Import the app in every worker (after the fork, as uWSGI does). By default (false) a Python parent imports it once and forks the workers: a crashed worker is back in milliseconds and unchanged memory is shared. Use lazy-apps when the app opens connections or starts threads at import time that must not be shared.',
  }),
  row({
    name: 'chain-reload', type: 'bool', default: 'false', field: 'chainReload', group: 'Processes', berthOnly: true,
    help: 'Make SIGHUP (and touch-reload) replace the workers one at a time, each new one ready before an old one retires, instead of starting a whole new generation at once (which briefly needs twice the workers).',
  }),
  row({
    name: 'reload-mercy', type: 'seconds', default: '30', range: [0, DAY_MS], field: 'reloadMercyMs', group: 'Processes',
    help: 'The one bound of a graceful stop (SIGTERM, SIGINT, berth --stop): in-flight requests may run this long, then every worker still running is killed (SIGKILL). The stop log states it: "stopping: waiting up to N s for M request(s)".',
  }),
  row({
    name: 'worker-reload-mercy', type: 'seconds', default: '30', range: [0, DAY_MS], field: 'workerReloadMercyMs', group: 'Processes',
    help: 'On a reload or a recycle (max-requests, reload-on-rss, lifetime): how long one retiring worker may take to finish its requests and exit before it is killed. A stop is bounded by reload-mercy alone.',
  }),
  row({
    name: 'max-requests', short: 'R', type: 'int', default: '0', range: [0, Number.MAX_SAFE_INTEGER], field: 'maxRequests', group: 'Processes',
    help: 'Replace a worker after it served this many requests (0 = never). Its replacement starts before it retires.',
  }),
  row({
    name: 'max-requests-delta', type: 'int', default: '0', range: [0, Number.MAX_SAFE_INTEGER], field: 'maxRequestsDelta', group: 'Processes',
    help: 'Spread max-requests so workers do not recycle together: worker N recycles after max-requests + (N-1) × delta requests.',
  }),
  row({
    name: 'min-worker-lifetime', type: 'seconds', default: '10', range: [0, DAY_MS], field: 'minWorkerLifetimeMs', group: 'Processes',
    help: 'A worker is not recycled (max-requests, max-worker-lifetime, the once-a-second reload-on-rss check) before it lived this long; the worker\'s own reload-on-rss check after each request applies from the start.',
  }),
  row({
    name: 'max-worker-lifetime', type: 'seconds', default: '0', range: [0, 365 * DAY_MS], field: 'maxWorkerLifetimeMs', group: 'Processes',
    help: 'Replace a worker after it lived this long (0 = never).',
  }),
  row({
    name: 'reload-on-rss', type: 'int', default: '0', range: [0, 1024 * 1024], field: 'reloadOnRssBytes', group: 'Processes',
    help: "Replace a worker whose resident memory (RSS) grew past this many megabytes (0 = never): the worker checks after every request, then takes no new request while its replacement starts.",
  }),
  row({
    name: 'harakiri', short: 't', type: 'seconds', default: '0', range: [0, DAY_MS], field: 'harakiriMs', group: 'Limits and timeouts',
    help: 'Kill the worker of a request that runs longer than this (0 = never): the client gets 504, the log gets the request and the Python stack of the stuck thread, and the worker is replaced.',
  }),
  row({
    name: 'harakiri-verbose', type: 'bool', default: 'false', field: 'harakiriVerbose', group: 'Limits and timeouts',
    help: "Berth always logs the stuck request and its Python stack on harakiri; accepted for uWSGI ini files.",
  }),
  row({
    name: 'touch-reload', type: 'path', repeatable: true, field: 'touchReload', group: 'Processes',
    help: 'Reload gracefully (as SIGHUP) when this file is touched or replaced. Repeat for several.',
  }),
  row({
    name: 'touch-chain-reload', type: 'path', repeatable: true, field: 'touchChainReload', group: 'Processes',
    help: 'Replace the workers one at a time, each new one ready before an old one retires, when this file is touched. Repeat for several.',
  }),
  row({
    name: 'py-autoreload', aliases: ['python-autoreload', 'py-auto-reload', 'python-auto-reload'], type: 'seconds', default: '0', range: [0, DAY_MS], field: 'pyAutoreloadMs', group: 'Python',
    help: "Development: reload when a Python file the app imported changes (0 = off). Berth watches the files with inotify; the value is how often workers report newly imported modules.",
  }),
  row({
    name: 'log-maxsize', type: 'size', default: '0', range: [0, Number.MAX_SAFE_INTEGER], field: 'logMaxsizeBytes', group: 'Logging',
    help: 'Rotate the log file (logto or daemonize) when it would grow past this size (0 = never). Backups are <logfile>.<unix time>, or log-backupname.1, .2… when that is set.',
  }),
  row({
    name: 'log-backupname', type: 'path', field: 'logBackupname', group: 'Logging',
    help: 'Base name of rotated logs: the newest is <name>.1, older ones .2, .3… up to log-backups.',
  }),
  row({
    name: 'log-backups', type: 'int', default: '7', range: [0, 10_000], field: 'logBackups', group: 'Logging', berthOnly: true,
    help: 'How many rotated log files to keep (0 = all).',
  }),
  row({
    name: 'log-reopen', type: 'bool', default: 'false', field: 'logReopen', group: 'Logging',
    help: 'Reopen the log file on every reload, for tools that rename it. SIGUSR1 and touch-logreopen always reopen it.',
  }),
  row({
    name: 'touch-logreopen', type: 'path', repeatable: true, field: 'touchLogreopen', group: 'Logging',
    help: 'Reopen the log file when this file is touched (after an external logrotate). Repeat for several.',
  }),
  row({
    name: 'log-4xx', type: 'bool', default: 'false', field: 'log4xx', group: 'Logging',
    help: 'With disable-logging: still log requests answered 4xx.',
  }),
  row({
    name: 'log-5xx', type: 'bool', default: 'false', field: 'log5xx', group: 'Logging',
    help: 'With disable-logging: still log requests answered 5xx (Berth does so anyway: hiding them hides outages).',
  }),
  row({
    name: 'log-slow', type: 'int', default: '0', range: [0, DAY_MS], field: 'logSlowMs', group: 'Logging',
    help: 'With disable-logging: still log requests slower than this many milliseconds (0 = off).',
  }),
  row({
    name: 'log-format', aliases: ['logformat'], type: 'string', field: 'logFormat', group: 'Logging', check: checkLogFormat,
    help: "Request log line with uWSGI's variables, e.g. '%(addr) - %(user) [%(ltime)] \"%(method) %(uri) %(proto)\" %(status) %(size) \"%(referer)\" \"%(uagent)\" %(msecs)ms'. Variables: addr, user, method, uri, proto, scheme (https on a TLS listener), host, uagent, referer, status, size and rsize (response body bytes), cl (request body bytes), micros, msecs, secs, time, tmsecs, tmicros, epoch, ltime, ftime, ctime, pid, wid, vars, pktsize, switches, core, rerr, werr, ioerr, upstream_addr and upstream_msecs (a proxied request's backends and the time spent on them), and var.NAME for any request variable. An unknown %(name) is an error.",
  }),
  row({
    name: 'log-json', type: 'bool', default: 'false', field: 'logJson', group: 'Logging', berthOnly: true,
    help: 'Write the request log as JSON lines (time, addr, method, uri, proto, scheme, status, size, msecs, pid, wid, uagent, referer, host).',
  }),
];
