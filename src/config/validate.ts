/**
 * Builds the frozen Config from merged assignments and checks what single values cannot:
 * a listener and exactly one app are given, `module:callable` agrees with `callable`, and the
 * directories and files named exist (chdir, home with its bin/python, wsgi-file relative to
 * chdir). Every problem is collected, and a field whose value was already refused is not
 * reported again as missing.
 */
import path from 'node:path';
import type { Assigned, MapResult, Value } from './map.js';
import { parseValue } from './map.js';
import type { ConfigField } from './option-spec.js';
import { OPTIONS, primaryOptionFor } from './options.js';
import { describeSource, problemAt, type Problem } from './problem.js';
import type { Config, ExpiresRule, ListenAddress, Mount, ValueSource } from './schema.js';
import { buildStatic, normalizeMountpoint, parseRegexpRule, parseTypeRule, type Reporter } from './static-values.js';
import { buildOperations, type LogFormatCheck } from './operations.js';
import { buildStats } from './stats-values.js';
import { buildSupervision } from './supervise-values.js';
import type { ProgramSection } from './program-sections.js';
import { buildProxy } from './proxy-values.js';
import { buildTls } from './tls-values.js';
import { kindOf, writableFileProblem } from './fs-kind.js';
import { parseCidr, withinLoopback } from './cidr.js';

const MODULE_NAME = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;
const IDENTIFIER = /^[A-Za-z_]\w*$/;

/** What supervision reads besides the options: the [program:x] sections and the environment (for %(ENV_X)s). */
export interface SuperviseInput { readonly sections: readonly ProgramSection[]; readonly env: Readonly<Record<string, string | undefined>> }

export interface BuildResult { readonly config: Config | null; readonly problems: Problem[]; readonly warnings: Problem[] }

/** "chdir = <path>" or "--chdir <path>", matching where the user wrote the option. */
function spelled(a: Assigned, value: string): string {
  return a.source.kind === 'argv' ? `${a.written} ${value}` : `${a.written} = ${value}`;
}

/** " (line 5)" for `other` in the same file as `here`, "" when both are on the command line. */
function nearWhere(other: ValueSource, here: ValueSource): string {
  if (other.kind === 'ini' && here.kind === 'ini' && other.file === here.file) return ` (line ${other.line ?? '?'})`;
  if (other.kind === 'argv' && here.kind === 'argv') return '';
  return ` (${describeSource(other)})`;
}

/** `chmod-socket` alone means 666 (world read/write), as in uWSGI. */
function chmodSocketOf(a: Assigned | undefined): number | null {
  if (a === undefined) return null;
  const v = a.value as string;
  return v === '' || v === 'true' ? 0o666 : parseInt(v, 8);
}


/**
 * Whether the workers accept on the TCP http listeners when http-direct is not set: on, since it
 * measures best (docs/benchmarks.md); the options row's default says the same
 * (test/config/http-direct.test.ts holds them together).
 */
export const HTTP_DIRECT_BY_DEFAULT = true;

export function buildConfig(mapped: MapResult, cwd: string, checkLogFormat?: LogFormatCheck, supervise: SuperviseInput = { sections: [], env: {} }): BuildResult {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const all = (f: ConfigField): readonly Assigned[] => mapped.assignments.get(f) ?? [];
  const last = (f: ConfigField): Assigned | undefined => all(f).at(-1);
  const fail = (a: Assigned | undefined, code: string, message: string, fix: string): void => {
    problems.push(problemAt(a?.source, { code, ...(a ? { option: a.written } : {}), message, fix }));
  };
  const valueOf = <T extends Value>(f: ConfigField): T => {
    const a = last(f);
    if (a !== undefined) return a.value as T;
    const opt = primaryOptionFor(f);
    const d = opt?.default !== undefined ? parseValue(opt, opt.default, cwd) : undefined;
    if (!d?.ok) throw new Error(`option table: no valid default for ${f}`);
    return d.value as T;
  };

  const http = all('http').map((a): ListenAddress => ({ ...(a.value as ListenAddress), via: a.option.name === 'http-socket' || a.option.name === 'https-socket' ? 'http-socket' : 'http' }));
  const uwsgi = all('uwsgi').map((a): ListenAddress => ({ ...(a.value as ListenAddress), via: 'socket' }));
  if (http.length === 0 && uwsgi.length === 0 && !mapped.failed.has('http') && !mapped.failed.has('uwsgi')) {
    fail(undefined, 'no-listener', 'no listener is configured', 'add http = :8000 (browsers, proxy_pass) or socket = 127.0.0.1:8001 (nginx uwsgi_pass) under [uwsgi]');
  }
  const seenAddress = new Map<string, Assigned>();
  for (const a of [...all('http'), ...all('uwsgi')]) {
    const addr = a.value as ListenAddress;
    const key = addr.kind === 'unix' ? addr.path : `${addr.host}:${addr.port}`;
    const before = seenAddress.get(key);
    if (before !== undefined && !(addr.kind === 'tcp' && addr.port === 0)) {
      fail(a, 'duplicate-listener', `${a.written} ${addr.text} is also given to '${before.written}'${nearWhere(before.source, a.source)}`, 'list each address once: with detect-protocol one port serves HTTP and uwsgi alike');
    }
    seenAddress.set(key, a);
  }

  const sources: Record<string, ValueSource> = {};
  for (const opt of OPTIONS) {
    if (opt.field === undefined || opt !== primaryOptionFor(opt.field)) continue;
    sources[opt.name] = last(opt.field)?.source ?? { kind: 'default' };
  }

  // The app: exactly one of module / wsgi-file; module may carry the callable after ':'.
  const moduleA = last('module');
  const fileA = last('wsgiFile');
  const callableA = last('callable');
  let module: string | null = null;
  let callable = valueOf<string>('callable');
  if (moduleA !== undefined) {
    const value = moduleA.value as string;
    const colon = value.indexOf(':');
    const mod = colon < 0 ? value : value.slice(0, colon);
    const call = colon < 0 ? undefined : value.slice(colon + 1);
    if (mod.endsWith('.py') || mod.includes('/')) {
      fail(moduleA, 'bad-value', `option '${moduleA.written}': '${value}' is a file path, not a module`, `use ${spelled({ ...moduleA, written: moduleA.source.kind === 'argv' ? '--wsgi-file' : 'wsgi-file' }, value)}`);
    } else if (!MODULE_NAME.test(mod)) {
      fail(moduleA, 'bad-value', `option '${moduleA.written}': '${mod}' is not a Python module name`, 'write a dotted import path such as mysite.wsgi');
    } else {
      module = mod;
    }
    if (call !== undefined && !IDENTIFIER.test(call)) {
      fail(moduleA, 'bad-value', `option '${moduleA.written}': '${call}' is not a Python name`, "write module:callable, for example mysite.wsgi:application");
    } else if (call !== undefined && callableA !== undefined && callableA.value !== call) {
      fail(callableA, 'conflict', `'${callableA.written}' is '${callableA.value as string}' but '${moduleA.written}'${nearWhere(moduleA.source, callableA.source)} names the callable '${call}'`, 'keep one of the two');
    } else if (call !== undefined) {
      callable = call;
      if (callableA === undefined) sources['callable'] = moduleA.source;
    }
  }
  if (callableA !== undefined && !IDENTIFIER.test(callableA.value as string)) {
    fail(callableA, 'bad-value', `option '${callableA.written}': '${callableA.value as string}' is not a Python name`, 'write the name of the WSGI callable, for example application');
  }
  if (moduleA !== undefined && fileA !== undefined) {
    fail(fileA, 'app-conflict', `'${fileA.written}' and '${moduleA.written}'${nearWhere(moduleA.source, fileA.source)} are both set; Berth loads one app`, 'keep either the module (a dotted import path) or the wsgi-file (a file), not both');
  } else if (moduleA === undefined && fileA === undefined && all('mounts').length === 0 && all('proxyRoutes').length === 0 && valueOf<boolean>('needApp') && !mapped.failed.has('module') && !mapped.failed.has('wsgiFile') && !mapped.failed.has('proxyRoutes')) {
    fail(undefined, 'no-app', 'no WSGI app is configured', 'set module = mysite.wsgi (Django: the package holding wsgi.py) or wsgi-file = app.py (or need-app = false to serve only static-map and proxy-pass routes)');
  }

  const chdirA = last('chdir');
  let chdir: string | null = null;
  if (chdirA !== undefined) {
    chdir = path.resolve(cwd, chdirA.value as string);
    const k = kindOf(chdir);
    if (k === 'missing') fail(chdirA, 'no-such-directory', `${chdirA.written} directory ${chdir} does not exist`, 'create it or correct the path (usually the project directory, the one with manage.py)');
    else if (k !== 'dir') fail(chdirA, 'not-a-directory', `${chdirA.written} ${chdir} is not a directory`, 'point it at the project directory');
  }
  // Python resolves wsgi-file and relative sys.path entries after the chdir, as uWSGI does.
  const appDir = chdir ?? cwd;
  const appDirOk = chdir === null || kindOf(chdir) === 'dir';

  let wsgiFile: string | null = null;
  if (fileA !== undefined) {
    const raw = fileA.value as string;
    wsgiFile = path.resolve(appDir, raw);
    const k = appDirOk || path.isAbsolute(raw) ? kindOf(wsgiFile) : 'file';
    const relative = chdir !== null ? `relative paths are resolved from chdir (${chdir})` : `relative paths are resolved from the current directory (${cwd})`;
    if (k === 'missing') fail(fileA, 'no-such-file', `${fileA.written} ${wsgiFile} does not exist`, `check the path; ${relative}`);
    else if (k !== 'file') fail(fileA, 'not-a-file', `${fileA.written} ${wsgiFile} is not a file`, 'point it at the .py file that defines the WSGI callable');
  }

  const homeA = last('home');
  let home: string | null = null;
  if (homeA !== undefined) {
    home = path.resolve(cwd, homeA.value as string);
    const k = kindOf(home);
    if (k === 'missing') fail(homeA, 'no-such-directory', `${homeA.written} directory ${home} does not exist`, `create the virtualenv (python3 -m venv ${home}) or correct the path`);
    else if (k !== 'dir') fail(homeA, 'not-a-directory', `${homeA.written} ${home} is not a directory`, 'point it at the virtualenv directory');
    else if (kindOf(path.join(home, 'bin', 'python')) === 'missing' && kindOf(path.join(home, 'bin', 'python3')) === 'missing') {
      fail(homeA, 'not-a-virtualenv', `${homeA.written} ${home} has no bin/python or bin/python3`, 'point it at a virtualenv directory (the one containing bin/python), not at the project or its bin/');
    }
  }

  const pythonA = last('python');
  let python: string | null = null;
  if (pythonA !== undefined) {
    const raw = pythonA.value as string;
    python = raw.includes('/') ? path.resolve(cwd, raw) : raw;
    if (raw.includes('/') && kindOf(python) !== 'file') fail(pythonA, 'no-such-file', `${pythonA.written} ${python} does not exist`, 'give the path of a Python interpreter, or a command name such as python3.11');
    if (homeA !== undefined) {
      warnings.push(problemAt(pythonA.source, { code: 'python-and-home', option: pythonA.written, message: `both '${pythonA.written}' and '${homeA.written}' are set; workers run the virtualenv's interpreter`, fix: `remove '${pythonA.written}', or '${homeA.written}' if you meant a different Python` }));
    }
  }

  const pythonpath = all('pythonpath').map((a) => {
    const p = path.resolve(appDir, a.value as string);
    if (appDirOk && kindOf(p) === 'missing') {
      warnings.push(problemAt(a.source, { code: 'no-such-directory', option: a.written, message: `${a.written} ${p} does not exist`, fix: chdir !== null ? `relative paths are resolved from chdir (${chdir})` : 'check the path' }));
    }
    return p;
  });

  const logtoA = last('logto');
  let logto: string | null = null;
  if (logtoA !== undefined) {
    logto = path.resolve(cwd, logtoA.value as string);
    const bad = writableFileProblem(logto, logtoA.written, 'log somewhere else', 'name a log file, for example /var/log/berth/app.log');
    if (bad !== null) fail(logtoA, bad.code, bad.message, bad.fix);
  }

  const mountsA = all('mounts');
  const mounts: Mount[] = [];
  for (const a of mountsA) {
    const [prefixRaw, app] = a.value as readonly [string, string];
    // uWSGI keeps a trailing slash in SCRIPT_NAME (`/blog/`): kept, once.
    const bare = normalizeMountpoint(prefixRaw);
    const prefix = bare !== '/' && prefixRaw.trim().endsWith('/') ? `${bare}/` : bare;
    if (!prefix.startsWith('/') || prefix === '/') {
      fail(a, 'bad-value', `${a.written}: mountpoint '${prefixRaw}' must start with / and not be / itself`, 'write mount = /blog=mysite.wsgi (serve at / without mount)');
    } else if (app.trim() === '') {
      fail(a, 'bad-value', `${a.written}: no app after '${prefixRaw}='`, 'write mount = /blog=mysite.wsgi or mount = /blog=app.py');
    } else {
      mounts.push({ prefix, app: app.trim() });
    }
  }
  if (mounts.length > 0) {
    const apps = new Set(mounts.map((m) => m.app));
    const configured = module ?? (fileA !== undefined ? (fileA.value as string) : null);
    if (apps.size > 1 || (configured !== null && !apps.has(configured) && !apps.has(`${configured}:${callable}`))) {
      fail(mountsA[0], 'not-supported-yet', `mount: several different apps (${[...apps, ...(configured !== null && !apps.has(configured) ? [configured] : [])].join(', ')}) — Berth loads one app per instance`, 'mount the same app at each prefix, or run one Berth per app');
    } else if (configured === null && moduleA === undefined && fileA === undefined) {
      // The mounted app is the app: take it as module or wsgi-file.
      const app = mounts[0]!.app;
      if (app.endsWith('.py') || app.includes('/') || (app.endsWith('.wsgi') && kindOf(path.resolve(appDir, app)) === 'file')) wsgiFile = path.resolve(appDir, app);
      else {
        const colon = app.indexOf(':');
        module = colon === -1 ? app : app.slice(0, colon);
        if (colon !== -1) callable = app.slice(colon + 1);
      }
    }
  }

  // Static files: syntax was checked per value by the option table; here roots are resolved.
  const reporter = (a: Assigned): Reporter => (code, message, fix) => warnings.push(problemAt(a.source, { code, option: a.written, message, fix }));
  const listed = (f: ConfigField) => all(f).map((a) => ({ value: a.value as string, report: reporter(a) }));
  const statics = buildStatic({
    maps: all('staticMaps').map((a) => ({ value: a.value as string, keepMountpoint: a.option.name === 'static-map2', report: reporter(a) })),
    checkStatic: listed('checkStatic'),
    safe: listed('staticSafe'),
    mimefiles: listed('mimefiles'),
  }, appDirOk ? appDir : cwd);
  const rules = (f: ConfigField, parse: (v: string) => ExpiresRule | string): ExpiresRule[] =>
    all(f).map((a) => parse(a.value as string)).filter((r): r is ExpiresRule => typeof r !== 'string');
  const dotted = (e: string): string => (e.startsWith('.') ? e : `.${e}`);

  // uwsgi-direct: requests on the uwsgi sockets go to the workers without the master's router.
  // With static-map or static-from-django the workers can hand the master every GET/HEAD below
  // a mountpoint, but each such hand-over costs a relay (a thread and a copy through the
  // worker: a 10 KiB file at 0.3× the master's own rate), so that is chosen, not the default.
  // check-static may find a file under any path: with it the master must route every request.
  const directA = last('uwsgiDirect');
  const checkStaticA = last('checkStatic');
  const staticFirst = [...new Set((['staticMaps', 'staticFromDjango'] as const)
    .map((f) => last(f))
    .filter((a): a is Assigned => a !== undefined && a.value !== false)
    .map((a) => a.option.name))];
  // By default the workers take the uwsgi sockets unless the master must or should route their
  // requests, or uwsgi-allow admits peers beyond loopback (the workers would relay every one;
  // uwsgi-allow = 127.0.0.1/32, which trusts loopback on http ports, changes nothing for them).
  const allowsBeyondLoopback = all('uwsgiAllow').some((a) => {
    const net = parseCidr(a.value as string);
    return net === null || !withinLoopback(net);
  });
  // Without an app (need-app = false, or a pure front) there is no worker to accept: the master does.
  const appless = module === null && wsgiFile === null;
  for (const a of [directA, last('httpDirect')]) {
    if (appless && a !== undefined && a.value === true) warnings.push(problemAt(a.source, { code: 'no-effect', option: a.written, message: `${a.written}: no app is configured, so there is no worker to accept and the master serves every request`, fix: `remove ${a.written}` }));
  }
  const uwsgiDirect = !appless && (directA === undefined
    ? checkStaticA === undefined && staticFirst.length === 0 && !allowsBeyondLoopback
    : directA.value === true);
  const uwsgiViaMasterFor = directA === undefined && checkStaticA === undefined && staticFirst.length > 0 ? staticFirst.join(', ') : null;
  if (directA !== undefined && directA.value === true) {
    if (checkStaticA !== undefined) {
      const name = checkStaticA.written;
      fail(directA, 'conflict', `${directA.written} = true sends uwsgi requests straight to the workers, past ${name}, which the master would have served first`,
        `remove ${directA.written}, or use static-map = /static=DIR (the workers hand those paths to the master) or nginx (location /static { alias …; }) instead of ${name}`);
    }
    if (uwsgi.length === 0) warnings.push(problemAt(directA.source, { code: 'no-effect', option: directA.written, message: `${directA.written}: there is no uwsgi socket (socket = …), so it changes nothing`, fix: 'add socket = /run/site.sock (or remove uwsgi-direct)' }));
  }

  // http-direct: the workers never see a PROXY header, check-static's files or a proxy route.
  // Left unset it follows HTTP_DIRECT_BY_DEFAULT, and stays off where one of those needs the master
  // to see every request.
  const httpDirectA = last('httpDirect');
  const proxyProtocolA = last('proxyProtocol');
  const proxyRouteA = last('proxyRoutes');
  const httpDirect = !appless && (httpDirectA === undefined
    ? HTTP_DIRECT_BY_DEFAULT && checkStaticA === undefined && (proxyProtocolA === undefined || proxyProtocolA.value === 'false') && proxyRouteA === undefined
    : httpDirectA.value === true);
  if (httpDirectA !== undefined && httpDirectA.value === true) {
    const written = httpDirectA.written;
    if (checkStaticA !== undefined) fail(httpDirectA, 'conflict', `${written} = true lets workers answer HTTP requests past ${checkStaticA.written}, which the master must serve first`, `remove ${written}, or use static-map = /static=DIR (the workers hand those paths to the master)`);
    const pp = proxyProtocolA;
    if (pp !== undefined && pp.value !== 'false') fail(httpDirectA, 'conflict', `${written} = true: the workers cannot read the PROXY header ${pp.written} expects on the HTTP listeners`, `remove ${written} or ${pp.written}`);
    const route = proxyRouteA;
    if (route !== undefined) fail(httpDirectA, 'conflict', `${written} = true: the workers would answer requests that ${route.written} sends to an upstream`, `remove ${written}, or serve the proxied paths from another Berth instance`);
    if (http.length === 0) warnings.push(problemAt(httpDirectA.source, { code: 'no-effect', option: written, message: `${written}: there is no HTTP listener (http = …), so it changes nothing`, fix: `add http = :8000 (or remove ${written})` }));
  }

  const batchA = last('uwsgiDirectBatch');
  if (batchA !== undefined && (!uwsgiDirect || uwsgi.length === 0)) {
    warnings.push(problemAt(batchA.source, { code: 'no-effect', option: batchA.written, message: `${batchA.written}: no worker accepts on a uwsgi socket (${uwsgi.length === 0 ? 'there is no socket = …' : 'uwsgi-direct is off'}), so it changes nothing`, fix: `remove ${batchA.written}` }));
  }

  const operations = buildOperations({ all, valueOf, cwd, logto, disableLogging: valueOf<boolean>('disableLogging'), checkLogFormat }, problems, warnings);

  const observability = buildStats(mapped, valueOf, warnings);
  const tls = buildTls([...all('http'), ...all('uwsgi')], all, valueOf, problems);
  const proxy = buildProxy(all('upstreams'), all('proxyRoutes'), statics.staticMaps.map((m) => m.mountpoint), problems);

  const supervision = buildSupervision(mapped, supervise.sections, supervise.env, cwd, operations.pidfile, problems, warnings);

  if (problems.length > 0) return { config: null, problems, warnings };
  const config: Config = {
    http: Object.freeze(http),
    uwsgi: Object.freeze(uwsgi),
    chmodSocket: chmodSocketOf(last('chmodSocket')),
    chownSocket: (last('chownSocket')?.value as string | undefined) ?? null,
    vacuum: valueOf<boolean>('vacuum'),
    detectProtocol: valueOf<boolean>('detectProtocol'),
    uwsgiDirect,
    httpDirect,
    uwsgiViaMasterFor,
    uwsgiDirectBatch: valueOf<boolean>('uwsgiDirectBatch'),
    uwsgiAllow: Object.freeze(all('uwsgiAllow').map((a) => a.value as string)),
    // Unset: no TCP peer is trusted (docs/proxy-balancing.md).
    forwardedAllowIps: (last('forwardedAllowIps')?.value as string | undefined) ?? '',
    proxyProtocol: valueOf<string>('proxyProtocol') === '' ? 'true' : valueOf<string>('proxyProtocol'),
    mounts: Object.freeze(mounts),
    manageScriptName: valueOf<boolean>('manageScriptName'),
    needApp: valueOf<boolean>('needApp'),
    module,
    wsgiFile,
    callable,
    chdir,
    home,
    python,
    pythonpath: Object.freeze(pythonpath),
    plugins: Object.freeze(all('plugins').flatMap((a) => (a.value as string).split(/[\s,]+/).filter((n) => n !== ''))),
    env: Object.freeze(all('env').map((a) => Object.freeze([...(a.value as readonly [string, string])] as const))),
    master: valueOf<boolean>('master'),
    processes: valueOf<number>('processes'),
    threads: valueOf<number>('threads'),
    bufferSizeBytes: valueOf<number>('bufferSizeBytes'),
    limitPostBytes: valueOf<number>('limitPostBytes'),
    spoolLimitBytes: valueOf<number>('spoolLimitBytes'),
    listen: valueOf<number>('listen'),
    httpTimeoutMs: valueOf<number>('httpTimeoutMs'),
    socketTimeoutMs: valueOf<number>('socketTimeoutMs'),
    logto,
    disableLogging: valueOf<boolean>('disableLogging'),
    staticMaps: Object.freeze(statics.staticMaps.map((m) => Object.freeze(m))),
    checkStatic: Object.freeze(statics.checkStatic),
    staticIndex: Object.freeze(all('staticIndex').map((a) => (a.value as string).trim())),
    staticSkipExt: Object.freeze(all('staticSkipExt').map((a) => dotted((a.value as string).trim()))),
    staticExpiresType: Object.freeze(rules('staticExpiresType', parseTypeRule)),
    staticExpires: Object.freeze(rules('staticExpires', parseRegexpRule)),
    staticExpiresUri: Object.freeze(rules('staticExpiresUri', parseRegexpRule)),
    staticGzipAll: valueOf<boolean>('staticGzipAll'),
    staticSafe: Object.freeze(statics.staticSafe),
    mimefiles: Object.freeze(statics.mimefiles),
    staticCacheBytes: valueOf<number>('staticCacheBytes'),
    staticCacheMaxFileBytes: valueOf<number>('staticCacheMaxFileBytes'),
    static404: valueOf<boolean>('static404'),
    staticFromDjango: valueOf<boolean>('staticFromDjango'),
    ...operations,
    ...observability,
    emperor: (last('emperor')?.value as string | undefined) ?? null,
    emperorStats: (last('emperorStats')?.value as ListenAddress | undefined) ?? null,
    emperorThrottleMs: valueOf<number>('emperorThrottleMs'),
    emperorMaxThrottleMs: valueOf<number>('emperorMaxThrottleMs'),
    emperorFreqSeconds: valueOf<number>('emperorFreqSeconds'),
    ...supervision,
    ...proxy,
    ...tls,
    sources: Object.freeze(sources),
  };
  return { config: Object.freeze(config), problems, warnings };
}
