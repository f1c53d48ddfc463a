/**
 * The shared reasons for classifying uWSGI's options (compat-rules-*.ts), so that a few hundred
 * options read as a few dozen decisions: each says why Berth accepts, plans or refuses a family
 * of options, and what to do instead.
 */
import type { OptionGroup, OptionStatus } from './option-spec.js';

/** A family of uWSGI options with one status and one reason. */
export interface CompatRule {
  readonly status: Exclude<OptionStatus, 'supported'>;
  readonly group: OptionGroup;
  readonly reason: string;
  /** Exact names; `name*` matches every name starting with `name`; `plugin:x` every option of plugin x. */
  readonly match: readonly string[];
}

export const rule = (status: CompatRule['status'], group: OptionGroup, reason: string, match: readonly string[]): CompatRule => ({ status, group, reason, match });

// Refused: another tool does the job better, or Berth's design makes the option moot.
export const EMPEROR = "Berth's emperor reads emperor, emperor-stats, emperor-throttle, emperor-max-throttle and emperor-freq (docs/supervision-emperor.md); this one has no counterpart: remove it, and put per-vassal settings in each vassal ini";
export const CLUSTER = 'Berth has no cluster layer; put a load balancer (nginx upstream, HAProxy) in front of several Berth instances';
export const ROUTERS = 'Berth is itself the front of one app; for load balancing or routing to other servers use nginx (proxy_pass, uwsgi_pass)';
export const SPOOLER = 'run background jobs with a task queue (Celery, RQ, Huey) under supervisor or systemd';
export const CACHE = "use the app's cache framework with Redis or memcached (Django's cache, Flask-Caching); Berth has no shared cache";
export const UWSGI_API = "Berth has no `uwsgi` Python module API (shared areas, locks, signals, RPC); use a database, Redis or OS primitives from the app";
export const TIMERS = 'schedule jobs with cron or systemd timers (or the task queue\'s scheduler)';
export const ISOLATION = 'isolate Berth with a container or systemd sandboxing (ProtectSystem=, PrivateTmp=, namespaces); uid and gid are supported';
export const HOOKS = "do it in the app's start-up code, or in the service manager (systemd ExecStartPre=, supervisor command)";
export const CONFIG_FORMATS = 'Berth reads ini files only; convert the file to an ini file with a [uwsgi] section';
export const CONTROL = 'control a running Berth with berth --stop/--reload/--status PIDFILE or signals (SIGTERM stops, SIGHUP reloads)';
export const INTROSPECTION = 'a uWSGI build or introspection command; berth --help and berth help TOPIC describe options, berth check prints the resolved config';
export const PROTOCOLS = 'Berth speaks HTTP (http, http-socket) and uwsgi (socket); point nginx at one of them with proxy_pass or uwsgi_pass';
export const MODIFIERS = 'uwsgi modifiers select uWSGI plugins; Berth serves every request with the one WSGI app, so remove it';
export const LOG_SINKS = 'write the log to stderr or logto and forward it with journald, rsyslog or logrotate';
export const ALARMS = "watch the log and the stats with your monitoring system (Prometheus alerts, journald's forwarding)";
export const METRICS_PUSH = 'scrape the stats server instead; pushing metrics to carbon, rrdtool, zabbix or statsd is not part of Berth';
export const FOREIGN_PLUGIN = 'a uWSGI plugin Berth does not include (Python and the HTTP front are built in); serve that part with a dedicated tool';
export const OTHER_LANGS = 'Berth runs Python WSGI apps only; point module or wsgi-file at a WSGI callable (a wsgi.py that builds the app, e.g. with paste.deploy.loadapp)';
export const PY_SCRIPTS = 'run the script with the interpreter itself (python script.py); Berth serves a WSGI app only';
export const PY_INTERPRETER = 'choose the interpreter with python = /path/to/python or home = /path/to/venv';
export const TRACEBACKS = 'attach a sampling profiler or debugger to the worker (py-spy dump --pid PID)';
export const VHOSTS = 'Berth loads one app per instance; use nginx server blocks, or mount the same app at several prefixes';
export const TOUCH_OTHER = 'use touch-reload = <file> (all workers) or touch-chain-reload = <file> (one at a time)';
export const WORKER_EXEC = 'Berth starts its own Python worker; wrap the interpreter with python = /path/to/wrapper if you must';

// Planned: Berth will do it; the reason says what to do meanwhile.
export const SUPERVISE = 'not supported: use attach-daemon2 (cmd=, pidfile=), smart-attach-daemon or a [program:NAME] section (docs/supervision.md)';
export const MULES = 'mules (background workers) are not implemented; run background jobs with a task queue under supervisor or systemd';
export const TLS = 'TLS listeners (https, https2, https-socket, ssl-socket) and ssl-verbose, ssl-enable-tlsv1, ssl-session-timeout, ssl-option, https-export-cert are supported; this TLS option is not implemented yet: remove it, or terminate TLS in nginx for it';
export const WEBSOCKETS = 'WebSockets are not implemented yet; serve them from an ASGI server behind nginx meanwhile';
export const CONFIG_LOGIC = 'config logic (if/for/set/include) is not implemented; use ini = other.ini includes, %(placeholder) and $(ENV) expansion meanwhile';
export const HARAKIRI_TUNING = 'harakiri itself is supported; this refinement of it is not implemented yet, so remove it';
export const SOCKET_TUNING = 'socket tuning options are not implemented yet; remove it (Berth uses the kernel defaults)';
export const RESOURCE_LIMITS = 'set resource limits with the service manager (systemd LimitNOFILE=, MemoryMax=, CPUAffinity=, Nice=) meanwhile';
export const RECYCLE = 'use reload-on-rss (resident memory), max-requests or max-worker-lifetime instead; this recycling rule is not implemented';
export const FIXED_WORKERS = 'set processes = N; adaptive worker counts are not implemented yet';
export const GREEN = 'use threads = N; async loops (gevent, greenlet, asyncio, tornado) are not implemented yet';
export const ROUTING = 'do it in the app or in nginx; internal routing is not implemented yet';
export const STATIC_EXTRA = "Berth's static stage supports static-map, check-static, static-index, static-expires*, static-gzip-all and static-safe; this refinement is not implemented yet, so remove it";
export const ACCESS_LOG = 'remove it; use log-format (uWSGI variables) or log-json for the request log';
export const LOG_TRUNCATE = 'Berth appends to logto; empty the file before starting (: > file) or rotate it with log-maxsize meanwhile';
export const PRIVILEGES = 'uid and gid are supported (the master drops them after binding); this variant is not implemented yet, so remove it';
export const APP_LOADING = 'not implemented yet; import it from the WSGI module (wsgi.py) meanwhile';
export const SD_NOTIFY = "uWSGI's own notification socket (its master binds it to read its plugins' messages), not systemd's: Berth has no such messages; under systemd Berth follows NOTIFY_SOCKET by itself (Type=notify, `berth systemd-unit`, docs/systemd.md)";
export const NO_STATS = 'remove it; the stats server is not implemented yet';
export const NOT_YET = 'not implemented in Berth yet; remove it';

// Accepted: Berth already behaves this way, so the option changes nothing.
export const BUFFERED = 'Berth always reads the whole request body before calling the app';
export const DISCONNECTS = 'Berth never raises client disconnects into the app and does not count them as errors';
export const PEP3333 = "Berth's one WSGI core follows PEP 3333 on every path (a fresh environ per request, start_response rules enforced); a bytes return value is sent whole, as uWSGI does without wsgi-strict";
export const REAPS = 'the Berth master always reaps its workers';
export const PLUGINS_BUILT_IN = 'plugins are built in, so there is nothing to load';
export const MASTER_LOGS = 'the Berth master always writes the log itself';
export const RANGES = 'Berth always honours Range requests on static files';
export const HTTP_FRONT = "Berth's HTTP front runs in the master, which already follows processes, uid and gid";
