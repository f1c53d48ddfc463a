/**
 * THE option table. Every option Berth knows — the ones it implements, the uWSGI ones it
 * accepts as harmless, and the uWSGI ones it does not implement yet — is one row here.
 * CLI parsing, ini and env reading, `berth --help`, docs/configuration.md and validation
 * all come from these rows.
 */
import { COMPAT_OPTIONS } from './options-compat.js';
import { OPERATIONS_OPTIONS } from './options-operations.js';
import { GETOPT_NAMES, uwsgiRows } from './options-uwsgi.js';
import { STATS_OPTIONS } from './options-stats.js';
import { RELOAD_OPTIONS } from './options-reload.js';
import { EMPEROR_OPTIONS } from './options-emperor.js';
import { SUPERVISE_OPTIONS } from './options-supervise.js';
import { TLS_OPTIONS } from './options-tls.js';
import { PROXY_OPTIONS } from './options-proxy.js';
import type { OptionSpec, ValueNote } from './option-spec.js';
import { parseCidr } from './cidr.js';
import { checkIndex, checkMapping, checkRegexpRule, checkSkipExt, checkTypeRule } from './static-values.js';
import { suggest } from './suggest.js';

const MiB = 1024 * 1024;

function checkMode(value: string | null): ValueNote | undefined {
  if (value === null || value === '' || /^[0-7]{3,4}$/.test(value)) return undefined;
  return { severity: 'problem', message: `chmod-socket: '${value}' is not an octal file mode`, fix: 'write an octal mode such as 660, or chmod-socket alone for 666' };
}

function checkOwner(value: string | null): ValueNote | undefined {
  if (value !== null && /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(value)) return undefined;
  return { severity: 'problem', message: `chown-socket: '${value ?? ''}' is not user or user:group`, fix: 'write chown-socket = www-data or chown-socket = www-data:www-data' };
}

function checkCidr(value: string | null): ValueNote | undefined {
  if (value !== null && parseCidr(value) !== null) return undefined;
  return { severity: 'problem', message: `uwsgi-allow: '${value ?? ''}' is not a network in CIDR form`, fix: 'write an address with a prefix length, such as 10.0.0.0/8, 192.168.1.7/32 or fd00::/8' };
}

function checkForwardedAllow(value: string | null): ValueNote | undefined {
  const bad = (value ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '' && x !== '*' && parseCidr(x) === null);
  if (value !== null && bad.length === 0) return undefined;
  return { severity: 'problem', message: `forwarded-allow-ips: '${bad[0] ?? value ?? ''}' is not an IP address or a CIDR network`, fix: 'write addresses or networks separated by commas, such as 127.0.0.1,::1 or 10.0.0.0/8, or * to trust every peer' };
}

function checkProxyProtocol(value: string | null): ValueNote | undefined {
  if (value === null || /^(true|false|yes|no|on|off|1|0)$/i.test(value.trim())) return undefined;
  if (value.split(',').every((x) => x.trim() !== '')) return undefined;
  return { severity: 'problem', message: `proxy-protocol: '${value}' is neither true/false nor a list of listener addresses`, fix: 'write proxy-protocol = true, or the http listeners that receive it: proxy-protocol = :8080,127.0.0.1:8081' };
}

const SUPPORTED: readonly OptionSpec[] = [
  {
    name: 'http', aliases: ['httprouter'], type: 'address', repeatable: true, status: 'supported', field: 'http', group: 'Listening',
    help: "HTTP/1.1 listener: ':8000' (every interface), '127.0.0.1:8000', '[::1]:8000' or a unix socket path. Repeat for several.",
  },
  {
    name: 'http-socket', aliases: [], type: 'address', repeatable: true, status: 'supported', field: 'http', group: 'Listening',
    help: 'An HTTP listener on Berth\'s one HTTP front, like http, except that its clients get socket-timeout instead of http-timeout (for request heads, stalled bodies, idle keep-alive and unread responses), as uWSGI\'s http-socket does.',
  },
  {
    name: 'socket', aliases: ['uwsgi-socket', 'shared-socket'], short: 's', type: 'address', repeatable: true, status: 'supported', field: 'uwsgi', group: 'Listening',
    help: "uwsgi-protocol listener for nginx's uwsgi_pass: '127.0.0.1:8001', ':8001' or a unix socket path such as /run/site.sock. Repeat for several.",
  },
  {
    name: 'chmod-socket', aliases: ['chmod'], short: 'C', type: 'string', optionalValue: true, repeatable: false, status: 'supported', field: 'chmodSocket', group: 'Listening', check: checkMode,
    help: "File mode of the unix sockets Berth creates: an octal mode such as 660, or bare (chmod-socket alone) for 666 so nginx's user can connect.",
  },
  {
    name: 'chown-socket', aliases: [], type: 'string', repeatable: false, status: 'supported', field: 'chownSocket', group: 'Listening', check: checkOwner,
    help: "Owner of the unix sockets Berth creates: 'user' or 'user:group' (needs root).",
  },
  {
    name: 'vacuum', aliases: [], type: 'bool', repeatable: false, default: 'false', status: 'supported', field: 'vacuum', group: 'Listening',
    help: 'Remove what Berth created when it exits: the pidfiles (only while they still hold its pid). Unix sockets are removed on every clean stop anyway (a stale one left by a crash is replaced at the next start).',
  },
  {
    name: 'detect-protocol', aliases: [], type: 'bool', repeatable: false, default: 'true', status: 'supported', field: 'detectProtocol', group: 'Listening', berthOnly: true,
    help: "Look at the first bytes of each connection and serve HTTP or uwsgi whichever port it reached, logging once which nginx directive fits (uwsgi_pass for socket, proxy_pass for http). 'false' answers a mismatch with an error instead.",
  },
  {
    name: 'uwsgi-direct', aliases: [], type: 'bool', repeatable: false, default: 'true', status: 'supported', field: 'uwsgiDirect', group: 'Listening', berthOnly: true,
    help: "Let the workers accept on the uwsgi sockets (socket = …) themselves, as uWSGI's do, so behind nginx a request skips the master: nginx → worker → nginx. Anything else reaching those sockets — plain HTTP, TLS, other modifiers, bad packets, peers outside loopback (uwsgi-allow), bodies over limit-post — is relayed to the master and handled as without this option; served requests still reach the access log, harakiri and max-requests (reported as they end: at once when the worker is idle, within 20 ms when it is busy). With static-map, static-map2 or static-from-django the uwsgi sockets stay with the master by default, since its static stage serves the files; uwsgi-direct = true there lets the workers answer the pages and relay every GET and HEAD below a mountpoint (and any path with a %-escape, an empty or dot segment) to the master — the better choice when nginx serves /static itself, a slower one for files that do reach Berth (docs/benchmarks.md). check-static can find a file under any path, so with it the master must route every request (uwsgi-direct = true there is an error that says so); with uwsgi-allow naming peers beyond loopback they stay with it too unless uwsgi-direct = true (the workers serve loopback and unix peers themselves and relay the allowed ones). 'false': every request passes through the master. Changing it takes a restart.",
  },
  {
    name: 'http-direct', aliases: [], type: 'bool', repeatable: false, default: 'true', status: 'supported', field: 'httpDirect', group: 'Listening', berthOnly: true,
    help: "Let the workers accept on the TCP HTTP listeners (http = …) themselves and serve complete, plain requests there (keep-alive, HTTP/1.0 keep-alive and pipelining included; a streamed response of unknown length goes chunked to an HTTP/1.1 client), so a request skips the master: less CPU per request and the master's core no longer bounds throughput (docs/benchmarks.md). Everything else is handed to the master as the connection itself (its descriptor, over the zygote's IPC channel) with its unserved bytes still unread: a head not complete at once (slow clients), a body not all there or chunked, Expect: 100-continue, Upgrade, a request the parser refuses (the master answers 400/413/431), a path under a static mountpoint, and idle keep-alive connections while the worker's threads are all in the app for 100 ms, at a stop or reload, or past 64 idle in one worker (the least recently used; otherwise a worker keeps an idle one up to http-timeout, socket-timeout for http-socket, and then closes it as the master would). A proxy's Forwarded / X-Forwarded-* fields are served by the workers too, naming the client by forwarded-allow-ips exactly as the master does. Served requests still reach the access log, stats, harakiri, max-requests and graceful reloads (DIRECT records, as uwsgi-direct). Unix-socket HTTP listeners and sockets systemd passes stay with the master. It cannot be combined with check-static, proxy-protocol or proxy-pass (set to true there, it is an error that says so). Leave it off to have every request pass through the master: to compare the two paths; or where one process must own every client socket (the master answers 502 for a request whose worker died and 503 past listen; a worker serving a connection itself takes it with it when it dies, and waiting connections stay in the kernel's backlog). On by default (left unset it is off beside check-static, proxy-protocol or proxy-pass); with every worker FATAL the master accepts on the listeners itself and answers 503, as on the master path. Changing it takes a restart.",
  },
  {
    name: 'uwsgi-direct-batch', aliases: [], type: 'bool', repeatable: false, default: 'true', status: 'supported', field: 'uwsgiDirectBatch', group: 'Listening', berthOnly: true,
    help: "With uwsgi-direct, run the worker threads that accept on the uwsgi sockets under Linux's SCHED_BATCH policy (same priority; no privilege needed). nginx connects, then sends the request: a normal thread woken by the connect takes nginx's CPU only to find nothing to read yet and sleep again; a batch thread woken so does not preempt the running task, and reads the request once it is there. Behind nginx on a busy 2-core machine the workers' sleeps per request fell from 0.81 to 0.06 and nginx's preemptions from 0.61 to 0.19 (docs/benchmarks.md). Threads started from those threads inherit the policy (a thread the app starts from a request; relays run on the worker's waiter thread, which keeps the normal one). 'false': the normal policy. Takes effect at the next reload.",
  },
  {
    name: 'uwsgi-allow', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'uwsgiAllow', group: 'Listening', berthOnly: true, check: checkCidr,
    help: "Network (CIDR, e.g. 10.0.0.0/8) whose uwsgi-protocol requests over TCP are trusted: their uwsgi vars (REMOTE_ADDR, REMOTE_USER, HTTPS…) reach the app as sent. Unix-socket peers are always trusted, and so is loopback on a socket port. On an http port a loopback peer's uwsgi packet (nginx uwsgi_pass pointed at the wrong port, or any client behind a same-host TCP relay) is served request-only — REMOTE_ADDR is the connection's, identity and scheme vars are dropped — unless uwsgi-allow = 127.0.0.1/32 names it. Every other peer's uwsgi packet is refused (docs/uwsgi-compat.md).",
  },
  {
    name: 'forwarded-allow-ips', aliases: [], type: 'string', repeatable: false, status: 'supported', field: 'forwardedAllowIps', group: 'Listening', berthOnly: true, check: checkForwardedAllow,
    help: "Peers (comma-separated IPs or CIDR networks, or * for every peer) trusted to say who the client is, as gunicorn's forwarded_allow_ips: on the HTTP front their Forwarded (RFC 7239) or X-Forwarded-For / X-Forwarded-Proto headers set REMOTE_ADDR, REMOTE_PORT and wsgi.url_scheme (and so the access log and ip-hash), taking the rightmost address that is not itself a trusted proxy; with proxy-protocol they must start each connection with a PROXY header. Unix-socket peers are trusted. The default trusts no TCP peer (uWSGI never takes REMOTE_ADDR from a header; gunicorn's default 127.0.0.1 would let any client behind a same-host TCP relay — ssh -L, stunnel — set its address): behind nginx proxy_pass on this host, write forwarded-allow-ips = 127.0.0.1,::1. Other peers' headers reach the app untouched as HTTP_X_FORWARDED_FOR… but never REMOTE_ADDR (docs/proxy-balancing.md).",
  },
  {
    name: 'proxy-protocol', aliases: [], type: 'string', optionalValue: true, repeatable: false, default: 'false', status: 'supported', field: 'proxyProtocol', group: 'Listening', berthOnly: true, check: checkProxyProtocol,
    help: "Expect HAProxy's PROXY protocol header (v1 text or v2 binary) at the start of connections from the peers in forwarded-allow-ips on the http listeners: 'true' (or bare) for every http listener, or a comma-separated list of listener addresses as written in http = … . A trusted peer's connection that does not start with a valid header is closed with a log line; the header's source address becomes REMOTE_ADDR. uwsgi sockets are not affected.",
  },
  {
    name: 'listen', aliases: [], short: 'l', type: 'int', repeatable: false, default: '100', range: [0, 65535], status: 'supported', field: 'listen', group: 'Listening',
    help: "How many requests may wait for a free worker thread; past that Berth answers 503 with Retry-After. It is also every listener's kernel backlog (capped by net.core.somaxconn; Berth warns at start when it is above): with uwsgi-direct a unix socket whose queue holds this many connections refuses the next connect() and nginx answers 502 ('11: Resource temporarily unavailable'), which the workers log. Set it above the connections nginx may open at once.",
  },
  {
    name: 'module', aliases: ['wsgi'], short: 'w', type: 'string', repeatable: false, status: 'supported', field: 'module', group: 'Application',
    help: "WSGI module to import, e.g. 'mysite.wsgi' or 'mysite.wsgi:application' (the part after ':' is the callable).",
  },
  {
    name: 'mount', aliases: [], type: 'key=value', repeatable: true, status: 'supported', field: 'mounts', group: 'Application',
    help: "Serve the app below a prefix: 'mount = /blog=mysite.wsgi' gives requests under /blog SCRIPT_NAME=/blog and the rest as PATH_INFO. The app may be a module or a .py file; Berth loads one app. Written with a trailing slash ('mount = /blog/=…'), the mountpoint matches /blog and everything below it but SCRIPT_NAME is /blog/ and PATH_INFO loses its leading slash, as uWSGI does (docs/uwsgi-compat.md).",
  },
  {
    name: 'manage-script-name', aliases: [], type: 'bool', repeatable: false, default: 'false', status: 'supported', field: 'manageScriptName', group: 'Application',
    help: 'Set SCRIPT_NAME from the mountpoints (uWSGI needs it for mount to strip the prefix; Berth always does when mount is set).',
  },
  {
    name: 'need-app', aliases: [], type: 'bool', repeatable: false, default: 'true', status: 'supported', field: 'needApp', group: 'Application',
    help: "Refuse to start without a WSGI app (module, wsgi-file or mount), as uWSGI 2.1 does by default. 'need-app = false' with no app starts Berth without Python: static-map and proxy-pass routes are served, and any other request is answered 500, as uWSGI answers when no Python app is loaded (uWSGI 2.0's default). With an app configured it changes nothing.",
  },
  {
    name: 'wsgi-file', aliases: ['file'], type: 'path', repeatable: false, status: 'supported', field: 'wsgiFile', group: 'Application',
    help: 'Python file that defines the WSGI callable (instead of module); relative to chdir when chdir is set.',
  },
  {
    name: 'callable', aliases: [], type: 'string', repeatable: false, default: 'application', status: 'supported', field: 'callable', group: 'Application',
    help: 'Name of the WSGI callable in the module or file.',
  },
  {
    name: 'chdir', aliases: [], type: 'path', repeatable: false, status: 'supported', field: 'chdir', group: 'Application',
    help: 'Directory the workers change to before loading the app (usually the project directory). Must exist.',
  },
  {
    name: 'env', aliases: [], type: 'key=value', repeatable: true, status: 'supported', field: 'env', group: 'Application',
    help: 'Environment variable for the app, as KEY=VALUE. Repeat for several.',
  },
  {
    name: 'static-map', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'staticMaps', group: 'Application', check: checkMapping('static-map'),
    help: "Serve files below a URL prefix from a directory: 'static-map = /static=/srv/site/static' serves /static/css/a.css from /srv/site/static/css/a.css (Django: STATIC_URL=STATIC_ROOT, MEDIA_URL=MEDIA_ROOT). May map one file (/robots.txt=/srv/site/robots.txt). A relative directory is taken from chdir (else the start directory). A missing file goes to the app (see static-404). Repeat for several; the longest prefix is tried first, equal ones in order.",
  },
  {
    name: 'static-map2', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'staticMaps', group: 'Application', check: checkMapping('static-map2'),
    help: "Like static-map but keeps the prefix: 'static-map2 = /static=/srv/site' serves /static/css/a.css from /srv/site/static/css/a.css.",
  },
  {
    name: 'check-static', aliases: ['static-check'], type: 'path', repeatable: true, status: 'supported', field: 'checkStatic', group: 'Application',
    help: 'Document root tried for every request path before the app: a file that exists there is served, anything else goes to the app. Repeat for several.',
  },
  {
    name: 'static-index', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'staticIndex', group: 'Application', check: checkIndex,
    help: "File served when a directory is requested, e.g. index.html (a directory path without the final '/' is redirected to it, as nginx does). Directories are never listed. Repeat for several; the first that exists wins.",
  },
  {
    name: 'static-skip-ext', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'staticSkipExt', group: 'Application', check: checkSkipExt,
    help: 'File extension never served statically, e.g. .py (such requests go to the app). Repeat for several.',
  },
  {
    name: 'static-expires-type', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'staticExpiresType', group: 'Application', check: checkTypeRule,
    help: "Cache lifetime by MIME type, as type=seconds: 'static-expires-type = text/css=86400' adds Cache-Control: max-age=86400 and the matching Expires. Repeat for several.",
  },
  {
    name: 'static-expires', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'staticExpires', group: 'Application', check: checkRegexpRule('static-expires'),
    help: "Cache lifetime by a regular expression on the file's path, as 'regexp seconds' or regexp=seconds: 'static-expires = /srv/site/static/.*\\.(css|js)$ 86400'. The first matching rule of static-expires, static-expires-uri, static-expires-type applies.",
  },
  {
    name: 'static-expires-uri', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'staticExpiresUri', group: 'Application', check: checkRegexpRule('static-expires-uri'),
    help: "Cache lifetime by a regular expression on the request URI, as 'regexp seconds' or regexp=seconds: 'static-expires-uri = ^/static/ 3600'.",
  },
  {
    name: 'static-gzip-all', aliases: [], type: 'bool', repeatable: false, default: 'false', status: 'supported', field: 'staticGzipAll', group: 'Application',
    help: 'Serve a precompressed sibling (a.css.br, else a.css.gz) to clients that accept br or gzip, with Content-Encoding and Vary: Accept-Encoding.',
  },
  {
    name: 'static-safe', aliases: [], type: 'path', repeatable: true, status: 'supported', field: 'staticSafe', group: 'Application',
    help: 'Directory that symbolic links inside a static root may lead into. Without it a link pointing outside its root is refused. Repeat for several.',
  },
  {
    name: 'mimefile', aliases: ['mime-file'], type: 'path', repeatable: true, status: 'supported', field: 'mimefiles', group: 'Application',
    help: "Extra MIME types in /etc/mime.types format, added to Berth's built-in table of web types (which alone is used by default, so CSS is text/css even without /etc/mime.types). Repeat for several.",
  },
  {
    name: 'static-404', aliases: [], type: 'bool', repeatable: false, default: 'false', status: 'supported', field: 'static404', group: 'Application', berthOnly: true,
    help: "Answer 404 for a missing file below a static-map mountpoint instead of passing the request to the app (uWSGI's behaviour, the default).",
  },
  {
    name: 'static-from-django', aliases: [], type: 'bool', repeatable: false, default: 'false', status: 'supported', field: 'staticFromDjango', group: 'Application', berthOnly: true,
    help: "Ask the Django app for STATIC_URL/STATIC_ROOT and MEDIA_URL/MEDIA_ROOT once its first worker is ready and serve them like static-map (an explicit static-map for the same prefix wins; a URL on another host, like a CDN, is left alone). Warns at start when STATIC_ROOT is unset, missing or empty (run `python manage.py collectstatic`), when the admin's CSS would 404, or when MEDIA_ROOT does not exist.",
  },
  {
    name: 'static-cache-size', aliases: [], type: 'size', repeatable: false, default: '64M', range: [0, 64 * 1024 * MiB], status: 'supported', field: 'staticCacheBytes', group: 'Application', berthOnly: true,
    help: "Memory for keeping the bytes of requested static files (each checked against the file's inode, size and times on every request, so a changed file is never served stale); the least recently used go first. Files up to 16 KiB also keep a copy joined to their response head, outside this budget (so they can take up to twice it). 0 reads every file on every request.",
  },
  {
    name: 'static-cache-max-file', aliases: [], type: 'size', repeatable: false, default: '1M', range: [0, 16 * MiB], status: 'supported', field: 'staticCacheMaxFileBytes', group: 'Application', berthOnly: true,
    help: 'Largest static file kept in the static-cache-size memory; bigger files are streamed from disk in 256 KiB pieces.',
  },
  {
    name: 'home', aliases: ['virtualenv', 'venv', 'pyhome'], short: 'H', type: 'path', repeatable: false, status: 'supported', field: 'home', group: 'Python',
    help: 'Virtualenv directory; workers run its bin/python, so the app gets the venv\'s packages and Python version.',
  },
  {
    name: 'python', aliases: [], type: 'string', repeatable: false, status: 'supported', field: 'python', group: 'Python', berthOnly: true,
    help: "Python interpreter to run workers with, as a path or a command name (default: home's python, else python3 on PATH).",
  },
  {
    name: 'pythonpath', aliases: ['python-path', 'pp'], type: 'path', repeatable: true, status: 'supported', field: 'pythonpath', group: 'Python',
    help: 'Directory added to sys.path; relative to chdir when chdir is set. Repeat for several.',
  },
  {
    name: 'master', aliases: [], short: 'M', type: 'bool', repeatable: false, default: 'true', status: 'supported', field: 'master', group: 'Processes',
    help: 'uWSGI\'s master process. Berth always runs one; the value is recorded but changes nothing.',
  },
  {
    name: 'processes', aliases: ['workers'], short: 'p', type: 'int', repeatable: false, default: '1', range: [1, 512], status: 'supported', field: 'processes', group: 'Processes',
    help: 'Number of Python worker processes.',
  },
  {
    name: 'threads', aliases: [], type: 'int', repeatable: false, default: '1', range: [1, 1024], status: 'supported', field: 'threads', group: 'Processes',
    help: 'Threads per worker process; each serves one request at a time.',
  },
  {
    name: 'buffer-size', aliases: [], short: 'b', type: 'size', repeatable: false, default: '65536', range: [1024, 16 * MiB], status: 'supported', field: 'bufferSizeBytes', group: 'Limits and timeouts',
    help: 'Largest request head (request line and headers) accepted; bigger ones get 431. uWSGI\'s default is 4096, Berth\'s 64k.',
  },
  {
    name: 'limit-post', aliases: [], type: 'size', repeatable: false, default: '100M', range: [0, Number.MAX_SAFE_INTEGER], status: 'supported', field: 'limitPostBytes', group: 'Limits and timeouts',
    help: 'Largest request body accepted (bigger ones get 413 Content Too Large, and a log line naming this option); 0 = unlimited. Bodies over 1 MiB wait on disk (the temporary directory) until a worker takes them, so the default of 100M bounds what one upload can put there; uWSGI has no limit, nginx 1m.',
  },
  {
    name: 'spool-limit', aliases: [], type: 'size', repeatable: false, default: '1G', range: [0, Number.MAX_SAFE_INTEGER], status: 'supported', field: 'spoolLimitBytes', group: 'Limits and timeouts',
    help: 'Most disk all request bodies waiting in spool files (the temporary directory) may use together; 0 = no cap. An upload that does not fit gets 503 and a log line naming this option: with a Content-Length at once, before its body is read; a chunked one when it reaches the cap. limit-post bounds one upload, this their sum. Changing it takes a restart.',
  },
  {
    name: 'http-timeout', aliases: [], type: 'seconds', repeatable: false, default: '60', range: [1, 86_400_000], status: 'supported', field: 'httpTimeoutMs', group: 'Limits and timeouts',
    help: 'Seconds a client connection may stay silent (slow or idle client) before Berth closes it.',
  },
  {
    name: 'socket-timeout', aliases: [], short: 'z', type: 'seconds', repeatable: false, default: '4', range: [1, 86_400_000], status: 'supported', field: 'socketTimeoutMs', group: 'Limits and timeouts',
    help: 'Seconds an internal socket write (to a worker or upstream) may take; also how long a client of an http-socket listener may stay silent (slow or idle) before Berth closes it.',
  },
  {
    name: 'logto', aliases: [], type: 'path', repeatable: false, status: 'supported', field: 'logto', group: 'Logging',
    help: 'Append the log to this file instead of writing it to stderr.',
  },
  {
    name: 'disable-logging', aliases: [], short: 'L', type: 'bool', repeatable: false, default: 'false', status: 'supported', field: 'disableLogging', group: 'Logging',
    help: 'Do not log each request; errors and Berth\'s own messages are still logged.',
  },
  {
    name: 'ini', aliases: [], type: 'path', repeatable: true, status: 'supported', role: 'include', group: 'Config files',
    help: "Read an ini file, as 'file' or 'file:section' (default sections [uwsgi], then [berth]). In an ini file, relative to that file.",
  },
  {
    name: 'set-placeholder', aliases: ['set-ph'], type: 'key=value', repeatable: true, status: 'supported', role: 'placeholder', group: 'Config files',
    help: 'Define a placeholder for %(name) in later ini values, as name=value.',
  },
];

const HAND_WRITTEN: readonly OptionSpec[] = [...SUPPORTED, ...OPERATIONS_OPTIONS, ...STATS_OPTIONS, ...RELOAD_OPTIONS, ...EMPEROR_OPTIONS, ...SUPERVISE_OPTIONS, ...PROXY_OPTIONS, ...TLS_OPTIONS, ...COMPAT_OPTIONS];

/** The hand-written rows, then one row for each remaining uWSGI option (options-uwsgi.ts). */
export const OPTIONS: readonly OptionSpec[] = [
  ...HAND_WRITTEN,
  ...uwsgiRows(new Set(HAND_WRITTEN.flatMap((o) => [o.name, ...o.aliases])), new Set(HAND_WRITTEN.flatMap((o) => (o.short !== undefined ? [o.short] : [])))),
];

function index(): { byName: ReadonlyMap<string, OptionSpec>; byShort: ReadonlyMap<string, OptionSpec> } {
  const byName = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const o of OPTIONS) {
    for (const n of [o.name, ...o.aliases]) {
      if (byName.has(n)) throw new Error(`option table: '${n}' is declared twice`);
      byName.set(n, o);
    }
    if (o.short !== undefined) {
      if (byShort.has(o.short)) throw new Error(`option table: '-${o.short}' is declared twice`);
      byShort.set(o.short, o);
    }
  }
  return { byName, byShort };
}

const INDEX = index();

/** Look up by uWSGI name or long alias (exact; uWSGI keys are case-sensitive). */
export function findOption(name: string): OptionSpec | undefined {
  return INDEX.byName.get(name);
}

export function findShort(letter: string): OptionSpec | undefined {
  return INDEX.byShort.get(letter);
}

/** The result of reading a command-line name as getopt_long does: exact, an unambiguous prefix, or neither. */
export type PrefixMatch = { readonly kind: 'exact' | 'prefix'; readonly name: string } | { readonly kind: 'ambiguous'; readonly candidates: readonly string[] } | { readonly kind: 'none' };

/**
 * uWSGI hands its argv to getopt_long, which takes an unambiguous prefix of a long option
 * (`--uwsgi` → `--uwsgi-socket`); an exact name always wins. Every uWSGI option is its own
 * getopt entry, so two prefix matches are ambiguous even when they are aliases. The names are
 * the ones uWSGI knows with the python and http plugins; Berth's own options must be written in full.
 */
export function matchPrefix(name: string): PrefixMatch {
  if (INDEX.byName.has(name)) return { kind: 'exact', name };
  if (name.length === 0) return { kind: 'none' };
  const candidates = GETOPT_NAMES.filter((n) => n.startsWith(name));
  if (candidates.length === 1) return { kind: 'prefix', name: candidates[0] as string };
  if (candidates.length > 1) return { kind: 'ambiguous', candidates };
  return { kind: 'none' };
}

/**
 * Did-you-mean for an unknown name: the option it is an unambiguous getopt prefix of (`uwsgi` in
 * an ini file, where names must be exact → `uwsgi-socket`), else the closest typo (suggest.ts).
 */
export function suggestOption(name: string): string | undefined {
  const prefix = matchPrefix(name);
  if (prefix.kind === 'prefix') return prefix.name;
  return suggest(name, allOptionNames(), findOption);
}

/** Every long name and alias, for did-you-mean. */
export function allOptionNames(): readonly string[] {
  return [...INDEX.byName.keys()];
}

/** The option that owns a Config field and names it in messages and sources (http, not http-socket). */
export function primaryOptionFor(field: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.field === field);
}
