/**
 * uWSGI options Berth does not implement, so that a real uWSGI ini file gets a precise answer
 * instead of "unknown option". `accepted` ones are harmless and ignored (the reason says why);
 * `planned` ones are refused with what to do meanwhile, because silently ignoring, say,
 * `harakiri` would remove a safety net the user believes they have.
 */
import { accepted, planned, type OptionSpec, type ValueNote } from './option-spec.js';

/** Plugins Berth has built in: Python itself (any python/python3/python311 build) and the HTTP front. */
/** In an ini file uWSGI would print the version and exit; Berth keeps that to the command line. */
function checkPythonVersion(): ValueNote {
  return { severity: 'warning', message: 'python-version has no effect in a config file', fix: 'run berth --python-version (with the same --ini/--home/--python) to print the workers\' Python version' };
}

function foreignPlugins(value: string | null): string[] {
  return (value ?? '').split(/[\s,]+/).filter((n) => n !== '' && !/^python[\d.]*$/.test(n) && n !== 'http');
}

function pluginList(names: readonly string[]): string {
  return `plugin${names.length > 1 ? 's' : ''} ${names.map((n) => `'${n}'`).join(', ')}`;
}

/**
 * uWSGI only warns about a plugin it cannot load ("UNABLE to load uWSGI plugin") and carries on:
 * so does Berth. A plugin that mattered has options of its own, and those are refused.
 */
function checkPlugins(value: string | null): ValueNote | undefined {
  const foreign = foreignPlugins(value);
  if (foreign.length === 0) return undefined;
  return {
    severity: 'warning',
    message: `${pluginList(foreign)} not available in Berth: ignored, as uWSGI ignores a plugin it cannot load`,
    fix: 'Berth has Python and the HTTP front built in and loads no other plugins; remove the plugin (python/python3 may stay)',
  };
}

/** need-plugin asks uWSGI to exit when the plugin cannot be loaded: refused. */
function checkNeededPlugins(value: string | null): ValueNote | undefined {
  const foreign = foreignPlugins(value);
  if (foreign.length === 0) return undefined;
  return {
    severity: 'problem',
    message: `${pluginList(foreign)} not available in Berth (need-plugin requires them)`,
    fix: 'Berth has Python and the HTTP front built in and loads no other plugins; remove the plugin (python/python3 may stay)',
  };
}

const ACCESS_LOG = 'remove it; use log-format (uWSGI variables) or log-json for the request log';
const RECYCLE = 'use reload-on-rss (resident memory) instead; address-space limits are not implemented';
const RESTART = 'use touch-reload = <file> (watched with inotify) instead';
const ROUTING = 'do it in the app or in nginx; internal routing is not implemented yet';
const FIXED_WORKERS = 'set processes = N; adaptive worker counts are not implemented yet';
const GREEN = 'use threads = N; async loops are not implemented yet';

export const COMPAT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'python-version', aliases: [], type: 'bool', repeatable: false, status: 'supported', role: 'command', group: 'Python', plugin: 'python', check: checkPythonVersion,
    help: "On the command line: print the Python version the workers would run (the interpreter home, python or PATH selects) and exit, like uWSGI's --python-version.",
  },
  accepted('enable-threads', 'bool', 'Processes', 'threads always work in Berth workers', { short: 'T' }),
  { ...accepted('plugin', 'string', 'Processes', 'Python and the HTTP front are built in (other plugin names are ignored with a warning, as uWSGI ignores a plugin it cannot load; a Python version other than the workers\' is a warning)', { aliases: ['plugins'], repeatable: true, check: checkPlugins }), field: 'plugins' },
  accepted('need-plugin', 'string', 'Processes', 'Python and the HTTP front are built in, so they are always there (other plugin names are refused: need-plugin exits when one cannot be loaded)', { aliases: ['need-plugins'], repeatable: true, check: checkNeededPlugins }),
  accepted('plugin-dir', 'path', 'Processes', 'plugins are built in, so no plugin directory is read', { aliases: ['plugins-dir'] }),
  accepted('die-on-term', 'bool', 'Processes', 'SIGTERM already stops Berth gracefully'),
  accepted('strict', 'bool', 'Config files', 'Berth is always strict: unknown options are errors'),
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
  accepted('memory-report', 'bool', 'Logging', 'Berth always reports rss and vsz in the stats document'),

  planned('protocol', 'string', 'Listening', 'remove it: http and http-socket listeners already speak HTTP'),
  planned('master-fifo', 'path', 'Processes', 'remove it and use signals (SIGTERM stops, SIGHUP reloads) or berth --stop/--reload <pidfile>', { repeatable: true }),
  planned('procname-prefix', 'string', 'Processes', 'remove it; process titles are not set yet'),
  planned('procname-prefix-spaced', 'string', 'Processes', 'remove it; process titles are not set yet'),
  planned('procname', 'string', 'Processes', 'remove it; process titles are not set yet'),
  planned('auto-procname', 'bool', 'Processes', 'remove it; process titles are not set yet'),
  planned('evil-reload-on-rss', 'size', 'Processes', RECYCLE),
  planned('reload-on-as', 'size', 'Processes', RECYCLE),
  planned('limit-as', 'size', 'Processes', RECYCLE),
  planned('fs-reload', 'path', 'Processes', RESTART, { repeatable: true }),
  planned('cheaper', 'int', 'Processes', FIXED_WORKERS),
  planned('cheaper-initial', 'int', 'Processes', FIXED_WORKERS),
  planned('cheaper-step', 'int', 'Processes', FIXED_WORKERS),
  planned('cheaper-algo', 'string', 'Processes', FIXED_WORKERS),
  planned('async', 'int', 'Processes', GREEN),
  planned('gevent', 'int', 'Processes', GREEN),
  planned('ugreen', 'bool', 'Processes', GREEN),
  planned('offload-threads', 'int', 'Processes', 'remove it; Berth has no offload threads yet', { aliases: ['offload-thread'] }),
  planned('log-date', 'string', 'Logging', ACCESS_LOG, { aliases: ['logdate'], optionalValue: true }),
  planned('log-x-forwarded-for', 'bool', 'Logging', ACCESS_LOG),
  planned('logger', 'string', 'Logging', ACCESS_LOG, { repeatable: true }),
  planned('req-logger', 'string', 'Logging', ACCESS_LOG, { repeatable: true }),
  planned('route', 'string', 'Application', ROUTING, { repeatable: true }),
  planned('route-uri', 'string', 'Application', ROUTING, { repeatable: true }),
  planned('route-host', 'string', 'Application', ROUTING, { repeatable: true }),
  planned('add-header', 'string', 'Application', ROUTING, { repeatable: true }),
];
