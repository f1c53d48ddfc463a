/**
 * The typed, validated configuration every other module reads. It is produced only by
 * loadConfig() (src/config/load.ts) from the option table in options.ts, and frozen.
 * Internal names carry their units (…Ms, …Bytes) so nobody guesses.
 */
import type { HealthSpec } from './health-spec.js';
import type { ProgramSpec } from './program-spec.js';

/**
 * Where a listener binds: a TCP host/port (host '' = all interfaces) or a unix socket path.
 * `via` is the option that declared it: like uWSGI, clients of an `http` listener get
 * `http-timeout`, clients of an `http-socket` listener get `socket-timeout`.
 */
export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly text: string; readonly via?: ListenVia; readonly tls?: TlsSpec }
  | { readonly kind: 'unix'; readonly path: string; readonly text: string; readonly via?: ListenVia; readonly tls?: TlsSpec };

/**
 * A listener that terminates TLS (`https`, `https-socket`, `ssl-socket`): its own line's
 * `ADDR,CERT,KEY[,CIPHERS[,CLIENT_CA]]`, paths absolute (tls-address.ts).
 */
export interface TlsSpec {
  readonly cert: string;
  readonly key: string;
  /** An OpenSSL cipher list, or null: Node's default. */
  readonly ciphers: string | null;
  /** Verify client certificates against this CA file, or null: no client certificates asked. */
  readonly clientCa: string | null;
  /** uWSGI's leading '!': a client without a certificate is refused too. */
  readonly clientCertRequired: boolean;
}

/** The option that declared a listener; it decides the protocol Berth expects there. */
export type ListenVia = 'http' | 'http-socket' | 'socket';

/** `mount = /prefix=app`: requests below `prefix` get SCRIPT_NAME = prefix. */
export interface Mount {
  /** As written, repeated trailing slashes made one: `/blog/` keeps its slash (src/server/script-name.ts). */
  readonly prefix: string;
  readonly app: string;
}

/**
 * `static-map = /static=/srv/site/static`: requests below `mountpoint` are looked up under
 * `root` (a directory, or one file). `keepMountpoint` (static-map2) keeps the mountpoint in
 * the looked-up path: /static/a.css → root/static/a.css instead of root/a.css.
 */
export interface StaticMap {
  readonly mountpoint: string;
  /** Absolute (relative values are resolved against chdir, else the start directory). */
  readonly root: string;
  readonly keepMountpoint: boolean;
}

/** An expiry rule: `match` is a MIME type (static-expires-type) or a regexp source (static-expires, static-expires-uri). */
export interface ExpiresRule {
  readonly match: string;
  readonly seconds: number;
}

/** Where a value came from, for messages: "line 7 of /srv/uwsgi.ini", "command line", "env BERTH_PROCESSES". */
export interface ValueSource {
  readonly kind: 'ini' | 'argv' | 'env' | 'default';
  readonly file?: string;
  readonly line?: number;
  readonly envName?: string;
}

/** Balancing policy of an upstream group (the proxy's balancer implements each). */
export type BalanceSetting = { readonly kind: 'round-robin' } | { readonly kind: 'least-conn' } | { readonly kind: 'ip-hash' } | { readonly kind: 'hash'; readonly key: string; readonly consistent: boolean } | { readonly kind: 'random-two' };

/** One `server = …` line of an `[upstream:NAME]` section. */
export interface BackendSpec {
  /** As written: http://127.0.0.1:9001, uwsgi:///run/app.sock. */
  readonly url: string;
  readonly protocol: 'http' | 'uwsgi';
  readonly target: { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };
  readonly weight: number;
  readonly maxFails: number;
  readonly failTimeoutMs: number;
  readonly backup: boolean;
  readonly down: boolean;
}

/** nginx's proxy_next_upstream: what counts as a failure worth another backend (and against max_fails). */
export interface NextUpstreamRule {
  readonly error: boolean;
  readonly timeout: boolean;
  /** 500, 502, 503, 504, 429 when listed. */
  readonly statuses: readonly number[];
  /** non_idempotent: re-send POST, PATCH… even after they may have reached a backend. */
  readonly nonIdempotent: boolean;
  /** `off`: never try another backend. */
  readonly off: boolean;
}

/** An `[upstream:NAME]` section. */
export interface UpstreamGroupSpec {
  readonly name: string;
  readonly backends: readonly BackendSpec[];
  readonly balance: BalanceSetting;
  readonly nextUpstream: NextUpstreamRule;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** `health-check = /path interval=… timeout=… rise=… fall=… status=…` (docs/proxy-balancing.md), or null: passive health only. */
  readonly healthCheck: HealthSpec | null;
  /** `via = on|off`: add `Via: 1.1 berth` to requests and responses (RFC 9110 §7.6.3); on unless turned off. */
  readonly via: boolean;
  /** Where the section starts, for messages. */
  readonly source: ValueSource;
}

/** `proxy-pass = [HOST][=]PREFIX=GROUP[/URI]`. */
export interface ProxyRouteSpec {
  /** null: any host; `*.example.com`: any subdomain; else exact (lower case, no port). */
  readonly host: string | null;
  /** Normalized (no trailing slash, `/` stays `/`); for an exact route, the path itself. */
  readonly prefix: string;
  /** `=/path`: only this path matches (nginx `location = /path`), before any prefix. */
  readonly exact: boolean;
  /** The prefix as written (trailing slash kept): what the URI part replaces. */
  readonly writtenPrefix: string;
  /** nginx's proxy_pass URI part (`/v1/`): replaces the written prefix in the path sent on; null passes the path as sent. */
  readonly uri: string | null;
  readonly group: string;
  readonly source: ValueSource;
}

export interface Config {
  /** HTTP/1.1 listeners: uWSGI `http` and `http-socket` both land here (Berth has one HTTP front). */
  readonly http: readonly ListenAddress[];
  /** uwsgi-protocol listeners (`socket`, `uwsgi-socket`, `shared-socket`), as nginx's uwsgi_pass speaks it. */
  readonly uwsgi: readonly ListenAddress[];
  /** ssl-verbose: log each failed TLS handshake (else they are only counted). */
  readonly sslVerbose: boolean;
  /** ssl-enable-tlsv1: accept TLS 1.0 and 1.1 too (else TLS 1.2 and up). */
  readonly sslEnableTlsv1: boolean;
  /** ssl-session-timeout: how long a TLS session can be resumed. */
  readonly sslSessionTimeoutMs: number;
  /** ssl-option: raw OpenSSL SSL_OP_* numbers for every TLS listener. */
  readonly sslOptions: readonly number[];
  /** https-export-cert: pass the client certificate as PEM in HTTPS_CC. */
  readonly httpsExportCert: boolean;
  /** File mode for the unix sockets Berth creates (`chmod-socket`; bare = 0o666), or null. */
  readonly chmodSocket: number | null;
  /** `chown-socket = user[:group]` for the unix sockets Berth creates, or null. */
  readonly chownSocket: string | null;
  /** Remove the unix sockets Berth created when it exits. */
  readonly vacuum: boolean;
  /** Look at each new connection's first bytes and serve HTTP or uwsgi whichever port it reached. */
  readonly detectProtocol: boolean;
  /** Berth-only `uwsgi-direct`: workers accept on the uwsgi sockets themselves. */
  readonly uwsgiDirect: boolean;
  /** http-direct: workers accept on the TCP HTTP listeners and hand the master what they do not serve. */
  readonly httpDirect: boolean;
  /** The static options that kept the uwsgi sockets with the master by default (uwsgi-direct unset), or null. */
  readonly uwsgiViaMasterFor: string | null;
  /** Berth-only `uwsgi-direct-batch`: the direct accept threads run under SCHED_BATCH. */
  readonly uwsgiDirectBatch: boolean;
  /** Networks (CIDR) allowed to send uwsgi-protocol requests over TCP; loopback always is. */
  readonly uwsgiAllow: readonly string[];
  /** forwarded-allow-ips as written: comma-separated IPs/CIDRs or `*` (checked by the option's check). */
  readonly forwardedAllowIps: string;
  /** proxy-protocol: 'true', 'false' (or another bool word), or comma-separated http listener addresses. */
  readonly proxyProtocol: string;
  readonly mounts: readonly Mount[];
  readonly manageScriptName: boolean;
  /** `need-app`: false lets Berth start with no app (static-map and proxy-pass only; other requests 500). */
  readonly needApp: boolean;
  /** WSGI app: `module` (e.g. "mysite.wsgi" or "mysite.wsgi:application"), or `wsgi-file`. */
  readonly module: string | null;
  readonly wsgiFile: string | null;
  /** `callable`, default "application". */
  readonly callable: string;
  /** Absolute paths (resolved against the directory the option came from). */
  readonly chdir: string | null;
  readonly home: string | null;
  /** `python`: interpreter path or command name. */
  readonly python: string | null;
  readonly pythonpath: readonly string[];
  /** `plugin`/`plugins` names as written (python311, http…); only read to compare a Python version. */
  readonly plugins: readonly string[];
  /** `env KEY=VALUE`, in order. */
  readonly env: readonly (readonly [string, string])[];
  readonly master: boolean;
  readonly processes: number;
  readonly threads: number;
  /** Max request head (request line + headers) size; default 64 KiB. */
  readonly bufferSizeBytes: number;
  /** Max request body; 0 = unlimited. */
  readonly limitPostBytes: number;
  readonly spoolLimitBytes: number;
  /** Bounded wait queue for requests when every worker thread is busy; default 100. */
  readonly listen: number;
  /** Client inactivity/slow-client timeout on the HTTP front; default 60 s. */
  readonly httpTimeoutMs: number;
  /** Timeout for internal sockets (worker channel writes, upstreams); default 4 s. */
  readonly socketTimeoutMs: number;
  /** Log file (append) instead of stderr. */
  readonly logto: string | null;
  readonly disableLogging: boolean;
  /** `static-map` and `static-map2`, in the order given. */
  readonly staticMaps: readonly StaticMap[];
  /** `check-static`: absolute document roots tried for every request path before the app. */
  readonly checkStatic: readonly string[];
  /** `static-index`: file names tried when a directory is requested, e.g. index.html. */
  readonly staticIndex: readonly string[];
  /** `static-skip-ext`: file name endings never served statically, e.g. .py. */
  readonly staticSkipExt: readonly string[];
  /** `static-expires-type`: Cache-Control/Expires by MIME type (match = lower-case type). */
  readonly staticExpiresType: readonly ExpiresRule[];
  /** `static-expires`: by a regexp on the file's path. */
  readonly staticExpires: readonly ExpiresRule[];
  /** `static-expires-uri`: by a regexp on the request URI. */
  readonly staticExpiresUri: readonly ExpiresRule[];
  /** `static-gzip-all`: serve a precompressed x.br / x.gz sibling to clients that accept it. */
  readonly staticGzipAll: boolean;
  /** `static-safe`: absolute directories symlinks under a static root may lead into. */
  readonly staticSafe: readonly string[];
  /** `mimefile`: extra MIME maps in /etc/mime.types format, read at start. */
  readonly mimefiles: readonly string[];
  /** Berth-only `static-cache-size`: bytes of static files kept in memory (0 = none). */
  readonly staticCacheBytes: number;
  /** Berth-only `static-cache-max-file`: the largest file kept. */
  readonly staticCacheMaxFileBytes: number;
  /** Berth-only `static-404`: a missing file below a static-map mountpoint is answered 404 instead of going to the app. */
  readonly static404: boolean;
  /** Berth-only `static-from-django`: map Django's STATIC_URL→STATIC_ROOT and MEDIA_URL→MEDIA_ROOT, as reported by the first ready worker. */
  readonly staticFromDjango: boolean;
  // ---- operations (src/config/options-operations.ts)
  /** Absolute pidfile paths (`pidfile`, `pidfile2`). */
  readonly pidfile: string | null;
  readonly pidfile2: string | null;
  /** `daemonize` / `daemonize2`: detach and log to this absolute path (daemonize2 waits for the app). */
  readonly daemonize: string | null;
  readonly daemonize2: string | null;
  /** `uid` / `gid` as written (a name or a number); `umask` parsed from octal. */
  readonly uid: string | null;
  readonly gid: string | null;
  readonly umask: number | null;
  /** `lazy-apps`: import the app in every worker instead of once in a forking Python parent. */
  readonly lazyApps: boolean;
  /** Berth-only `chain-reload`: SIGHUP / touch-reload replace workers one at a time. */
  readonly chainReload: boolean;
  readonly reloadMercyMs: number;
  readonly workerReloadMercyMs: number;
  /** Berth-only `reload-check`: the path each new worker must answer 2xx before a reload switches, or null. */
  readonly reloadCheck: string | null;
  /** Berth-only `reload-check-django`: Django's system check and URLconf before READY. */
  readonly reloadCheckDjango: boolean;
  /** Berth-only `reload-rollback-after`: roll back when the first N answers after a switch are all 5xx (0 = off). */
  readonly reloadRollbackAfter: number;
  /** 0 = off for each of these. */
  readonly maxRequests: number;
  readonly maxRequestsDelta: number;
  readonly minWorkerLifetimeMs: number;
  readonly maxWorkerLifetimeMs: number;
  readonly reloadOnRssBytes: number;
  readonly harakiriMs: number;
  readonly harakiriVerbose: boolean;
  /** Absolute paths of trigger files. */
  readonly touchReload: readonly string[];
  readonly touchChainReload: readonly string[];
  readonly touchLogreopen: readonly string[];
  readonly pyAutoreloadMs: number;
  readonly logMaxsizeBytes: number;
  /** Absolute base name of numbered backups, or null for `<logfile>.<unix time>`. */
  readonly logBackupname: string | null;
  readonly logBackups: number;
  readonly logReopen: boolean;
  readonly log4xx: boolean;
  readonly log5xx: boolean;
  readonly logSlowMs: number;
  readonly logFormat: string | null;
  readonly logJson: boolean;
  // ---- observability (src/config/options-stats.ts, docs/observability.md)
  /** `stats` / `stats-server`: where the uWSGI-format stats document is served, or null. */
  readonly stats: ListenAddress | null;
  readonly statsHttp: boolean;
  readonly statsMinified: boolean;
  readonly statsNoCores: boolean;
  /** Berth-only `metrics`: Prometheus /metrics on its own address, or null. */
  readonly metrics: ListenAddress | null;
  /** Berth-only `stats-redact`: lower-case header names hidden besides Cookie, Authorization, Proxy-Authorization. */
  readonly statsRedact: readonly string[];
  /** `[upstream:NAME]` sections, by name order of appearance. */
  readonly upstreams: readonly UpstreamGroupSpec[];
  /** `proxy-pass` routes, in the order given (matched longest prefix first). */
  readonly proxyRoutes: readonly ProxyRouteSpec[];
  readonly statsShowSecrets: boolean;
  // ---- emperor (src/config/options-emperor.ts, docs/supervision-emperor.md)
  /** `emperor`: the vassal directory or glob, or null (serve an app). */
  readonly emperor: string | null;
  readonly emperorStats: ListenAddress | null;
  readonly emperorThrottleMs: number;
  readonly emperorMaxThrottleMs: number;
  readonly emperorFreqSeconds: number;
  // ---- supervision (src/config/options-supervise.ts, program-sections.ts, docs/supervision.md)
  /** Side programs: [program:x] sections, then attach-daemon, attach-daemon2, smart-attach-daemon. */
  readonly programs: readonly ProgramSpec[];
  /** The control socket of berth ctl (ctl-socket, else the pidfile's path + .ctl), or null. */
  readonly ctlSocket: string | null;
  /** Berth-only `web-depends-on`: side programs the web workers wait for. */
  readonly webDependsOn: readonly string[];
  /** Every option set, by canonical name, as the user wrote its value (repeatable ones: each value). */
  readonly written: Readonly<Record<string, string | readonly string[]>>;
  /** Where each option's value came from, by canonical option name. */
  readonly sources: Readonly<Record<string, ValueSource>>;
}
