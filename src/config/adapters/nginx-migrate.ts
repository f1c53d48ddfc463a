/**
 * `berth migrate nginx FILE`: an nginx config's `server` blocks and their `upstream`s → a Berth
 * ini. Locations with alias/root become static maps, uwsgi_pass/proxy_pass become proxy-pass
 * routes (prefix, or exact for `location =`, with proxy_pass's URI part) to [upstream:NAME] sections; what has no Berth equivalent is listed as a comment with
 * its line and the reason, never dropped silently.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BerthError } from '../../errors/berth-error.js';
import { parseSize } from '../units.js';
import { parseNginxConf, type NginxDirective } from './nginx-conf.js';
import type { Migration } from './supervisor-migrate.js';

type Scheme = 'uwsgi' | 'http';

interface Group { name: string; line: number; servers: string[]; balance: string | null; scheme: Scheme | null; notes: string[] }

const SERVER_FLAGS = /^(?:weight|max_fails|fail_timeout)=|^(?:backup|down)$/;
/** nginx sizes (`1m`, `64k`) are the binary multiples units.ts already reads. */
function bytes(size: string): number | null {
  const parsed = parseSize(size);
  return parsed.ok ? parsed.value : null;
}

/** nginx's address (`host:port`, `port`, `unix:/path`) as a Berth backend URL. */
function backendUrl(address: string, scheme: Scheme): string {
  if (address.startsWith('unix:')) return `${scheme}:///${address.slice(5).replace(/^\/+/, '')}`;
  return `${scheme}://${address}`;
}

class Converter {
  readonly uwsgi: string[] = [];
  readonly skipped: string[] = [];
  readonly groups = new Map<string, Group>();
  private readonly listens = new Set<string>();
  private limitPost: number | null = null;
  private bufferSize: number | null = null;
  private generated = 0;

  constructor(private readonly file: string) {}

  skip(d: NginxDirective, reason: string): void {
    this.skipped.push(`# not translated: ${[d.name, ...d.args].join(' ')} (line ${d.line}): ${reason}`);
  }

  upstream(d: NginxDirective): void {
    const name = d.args[0] ?? '';
    const g: Group = { name, line: d.line, servers: [], balance: null, scheme: null, notes: [] };
    for (const s of d.block ?? []) {
      if (s.name === 'server') {
        const [addr = '', ...params] = s.args;
        const kept = params.filter((p) => SERVER_FLAGS.test(p));
        for (const p of params.filter((q) => !SERVER_FLAGS.test(q))) this.skip(s, `server parameter '${p}' has no Berth equivalent`);
        g.servers.push([addr, ...kept].join(' '));
      } else if (s.name === 'least_conn') g.balance = 'least-conn';
      else if (s.name === 'ip_hash') g.balance = 'ip-hash';
      else if (s.name === 'hash') g.balance = `hash ${s.args.join(' ')}`;
      else if (s.name === 'random' && s.args[0] === 'two') g.balance = 'random-two';
      else if (s.name === 'keepalive') this.skip(s, 'Berth keeps a pool per HTTP backend itself; uwsgi backends get one connection per request, as in nginx');
      else this.skip(s, `no Berth equivalent inside upstream ${name}`);
    }
    this.groups.set(name, g);
  }

  /** The group a pass target names: an upstream, or a group generated for a bare address. */
  groupFor(d: NginxDirective, target: string, scheme: Scheme): string {
    const known = this.groups.get(target);
    if (known !== undefined) {
      if (known.scheme !== null && known.scheme !== scheme) this.skip(d, `upstream ${target} is used by both uwsgi_pass and proxy_pass; Berth's servers carry one scheme, so its servers are ${known.scheme}://`);
      known.scheme ??= scheme;
      return target;
    }
    let name: string;
    do { this.generated += 1; name = this.generated === 1 ? 'backend' : `backend${this.generated}`; } while (this.groups.has(name));
    this.groups.set(name, { name, line: d.line, servers: [target], balance: null, scheme, notes: [`generated for the bare address in line ${d.line}`] });
    return name;
  }

  sizes(d: NginxDirective): boolean {
    if (d.name === 'client_max_body_size') {
      const n = bytes(d.args[0] ?? '');
      if (n === null) { this.skip(d, 'not a size Berth reads'); return true; }
      if (this.limitPost !== null && this.limitPost !== n) this.skip(d, 'another client_max_body_size was seen; Berth has one limit-post, the largest is kept');
      this.limitPost = Math.max(this.limitPost ?? 0, n);
      return true;
    }
    if (d.name === 'large_client_header_buffers') {
      const count = Number(d.args[0]);
      const each = bytes(d.args[1] ?? '');
      if (!Number.isInteger(count) || each === null) { this.skip(d, 'expected a count and a size'); return true; }
      this.bufferSize = Math.max(this.bufferSize ?? 0, count * each);
      return true;
    }
    return false;
  }

  server(d: NginxDirective, hostRoutes: boolean): void {
    const names: string[] = [];
    let listened = false;
    for (const s of d.block ?? []) {
      if (this.sizes(s)) continue;
      if (s.name === 'listen') {
        const [addr = '', ...params] = s.args;
        if (addr.startsWith('unix:')) { this.skip(s, "Berth's http listeners are TCP; use http-socket = /path for a unix socket"); continue; }
        listened = true;
        const spec = /^\d+$/.test(addr) ? `:${addr}` : addr.replace(/^\*:/, ':');
        this.listen(spec);
        for (const p of params) this.skip(s, `listen parameter '${p}' has no Berth equivalent${p === 'ssl' ? ' here (Berth serves TLS with https = addr,cert,key)' : ''}`);
      } else if (s.name === 'server_name') names.push(...s.args);
      else if (s.name === 'location') this.location(s, hostRoutes ? names : []);
      else if (s.name === 'include') this.include(s);
      else this.skip(s, reasonFor(s.name));
    }
    if (!listened) { this.uwsgi.push(`# server (line ${d.line}) has no listen: nginx's default is port 80`); this.listen(':80'); }
  }

  private listen(spec: string): void {
    if (this.listens.has(spec)) return;
    this.listens.add(spec);
    this.uwsgi.push(`http = ${spec}`);
  }

  include(d: NginxDirective): void {
    const base = path.basename(d.args[0] ?? '');
    if (base === 'uwsgi_params') this.uwsgi.push(`# include ${d.args[0]} (line ${d.line}): implied, Berth always sends nginx's uwsgi_params to uwsgi backends`);
    else if (base === 'mime.types') this.uwsgi.push(`# include ${d.args[0]} (line ${d.line}): implied, Berth's static files carry MIME types from its own table`);
    else this.skip(d, 'included files are not read; convert them separately');
  }

  location(d: NginxDirective, hosts: readonly string[]): void {
    const [first = '', second] = d.args;
    if (second !== undefined && first !== '^~' && first !== '=') {
      this.skip(d, `'${first}' (regular expression) locations have no Berth equivalent: Berth routes by exact path and by prefix. Fix: route the paths it matches by prefix (proxy-pass = /PREFIX=GROUP, static-map) or exact path (proxy-pass = =/PATH=GROUP), or let the app match them`);
      return;
    }
    if (second === undefined && first.startsWith('@')) { this.skip(d, 'named locations serve only internal redirects (error_page, try_files), which Berth does not make'); return; }
    const exact = first === '=';
    const prefix = second ?? first;
    const body = d.block ?? [];
    const pass = body.find((s) => s.name === 'uwsgi_pass' || s.name === 'proxy_pass');
    if (exact && pass === undefined) {
      this.skip(d, "exact locations become exact proxy routes only when they pass to a backend; Berth's static maps serve prefixes, so the app (or a static-map on a prefix) answers this path");
      return;
    }
    for (const s of body) {
      if (s === pass || this.sizes(s)) continue;
      if (s.name === 'include') this.include(s);
      else if (s.name === 'alias' && pass === undefined) this.uwsgi.push(`static-map = ${prefix}=${s.args[0] ?? ''}`);
      else if (s.name === 'root' && pass === undefined) this.uwsgi.push(`static-map2 = ${prefix}=${s.args[0] ?? ''}`);
      else if ((s.name === 'root' || s.name === 'alias') && pass !== undefined) this.skip(s, `location ${prefix} also passes to a backend, which answers every request there; nginx uses ${s.name} there only for $document_root`);
      else this.skip(s, reasonFor(s.name));
    }
    if ((body.some((s) => s.name === 'alias' || s.name === 'root') || pass !== undefined) && hosts.length > 0 && pass === undefined) {
      this.uwsgi.push(`# static-map ${prefix} (line ${d.line}) serves every host: Berth's static maps are not per host`);
    }
    if (pass === undefined) return;
    const scheme: Scheme = pass.name === 'uwsgi_pass' ? 'uwsgi' : 'http';
    let target = pass.args[0] ?? '';
    /** proxy_pass's URI part (`http://b/v1/` → `/v1/`): replaces the matched prefix, kept as the route's URI. */
    let uri = '';
    if (scheme === 'http') {
      const m = /^(https?):\/\/([^/]+)(\/.*)?$/.exec(target);
      if (m === null || m[1] === 'https') { this.skip(pass, 'Berth proxies to http:// and uwsgi:// backends only'); return; }
      uri = m[3] ?? '';
      target = m[2] as string;
    }
    const group = this.groupFor(pass, target, scheme);
    const routeHosts = hosts.filter((h) => h !== '_' && h !== '' && !h.startsWith('~'));
    const expanded = routeHosts.flatMap((h) => (h.startsWith('.') ? [h.slice(1), `*${h}`] : [h]));
    this.uwsgi.push(`# location ${exact ? '= ' : ''}${prefix} (line ${d.line}) → ${pass.name} ${pass.args[0] ?? ''}: kept as a proxy route; if that backend is the app this Berth should run, replace the route with module = … (and chdir = …)`);
    const mark = exact ? '=' : '';
    if (expanded.length === 0) this.uwsgi.push(`proxy-pass = ${mark}${prefix}=${group}${uri}`);
    for (const h of expanded) this.uwsgi.push(`proxy-pass = ${h}${mark}${prefix}=${group}${uri}`);
  }

  finish(fullWidthSpaces: boolean, servers: number): string {
    const head = [`# Berth configuration converted from ${path.resolve(this.file)} by berth migrate nginx.`, '# Run it with: berth --ini THIS_FILE'];
    if (fullWidthSpaces) head.push('# note: the file indents with U+3000 full-width spaces (which nginx itself refuses); they were read as whitespace');
    if (servers === 0) head.push('# note: no server block was found, so nothing listens; add http = …');
    const limits: string[] = [];
    if (this.limitPost !== null) limits.push(`limit-post = ${this.limitPost}`, '# from client_max_body_size');
    else if (servers > 0) limits.push('limit-post = 1048576', "# nginx's default client_max_body_size (1m): the file sets none, so nginx refuses larger bodies with 413");
    if (this.bufferSize !== null) limits.push(`buffer-size = ${Math.max(1024, this.bufferSize)}`, "# from large_client_header_buffers (count × size): nginx may use that many buffers for one request's headers; Berth reads the whole header into one buffer-size");
    const groups: string[] = [];
    for (const g of this.groups.values()) {
      if (g.scheme === null) { this.skipped.push(`# not translated: upstream ${g.name} (line ${g.line}): no uwsgi_pass or proxy_pass uses it`); continue; }
      groups.push('', `[upstream:${g.name}]`, ...g.notes.map((n) => `# ${n}`));
      for (const s of g.servers) groups.push(`server = ${backendUrl(s.split(' ')[0] as string, g.scheme)}${s.includes(' ') ? s.slice(s.indexOf(' ')) : ''}`);
      if (g.balance !== null) groups.push(`balance = ${g.balance}`);
    }
    return [...head, '', '[uwsgi]', ...this.uwsgi, ...limits, ...this.skipped, ...groups, ''].join('\n');
  }
}

const REASONS: Readonly<Record<string, string>> = {
  charset: "Berth sends the app's Content-Type as is and no charset for static files it does not know",
  error_page: "Berth's own error pages are fixed; the app's error responses pass through",
  keepalive_timeout: "Berth's idle client timeout is socket-timeout",
  sendfile: 'Berth streams static files itself',
  access_log: 'Berth logs every request (req-logger / logto; log-format for the line)',
  error_log: "Berth's log goes to stderr or logto",
  log_format: "Berth's line is set by log-format with uWSGI's %(var) names",
  index: 'Berth serves no index files for directories',
  default_type: 'Berth picks MIME types from its own table',
  pid: 'Berth writes a pid file with pidfile = …',
  events: 'nginx event loop settings; Berth has none to set',
  user: "Berth drops privileges with uid/gid",
};

function reasonFor(name: string): string {
  if (name.startsWith('worker_')) return "nginx worker settings; Berth's front is one process (processes sets the app workers)";
  if (name.startsWith('ssl_')) return 'TLS is set with https = addr,cert,key';
  if (name.startsWith('proxy_') || name.startsWith('uwsgi_')) return 'no Berth equivalent for this proxy setting (see docs/proxy.md for the ones that have one: connect-timeout, read-timeout, proxy-next-upstream in [upstream:…])';
  return REASONS[name] ?? 'no Berth equivalent';
}

/** Converts one nginx config file; errors are BERTH_CONFIG_INVALID naming the file and line. */
export function migrateNginx(file: string): Migration {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    throw new BerthError('BERTH_CONFIG_INVALID', `cannot read ${file}: ${(err as Error).message}`);
  }
  const conf = parseNginxConf(text, path.basename(file));
  const c = new Converter(file);
  const top = conf.directives.flatMap((d) => (d.name === 'http' ? (d.block ?? []) : [d]));
  for (const d of top) if (d.name === 'upstream') c.upstream(d);
  const servers = top.filter((d) => d.name === 'server' && d.block !== null);
  for (const d of top) {
    if (d.name === 'upstream' || (d.name === 'server' && d.block !== null)) continue;
    if (c.sizes(d)) continue;
    if (d.name === 'include') c.include(d);
    else c.skip(d, reasonFor(d.name));
  }
  for (const s of servers) c.server(s, servers.length > 1);
  const warnings = servers.length === 0 ? [`${file} has no server block: the output listens nowhere`] : [];
  return { text: c.finish(conf.fullWidthSpaces, servers.length), warnings };
}
