/**
 * The proxy part of the Config: `[upstream:NAME]` sections (read as `upstream` settings) into
 * groups of backends, and `proxy-pass` routes (prefix or exact, with nginx's URI part) checked against the groups and static-map.
 */
import { isHealthSpecError, parseHealthCheck, type HealthSpec } from './health-spec.js';
import type { Assigned } from './map.js';
import { problemAt, type Problem } from './problem.js';
import type { BackendSpec, BalanceSetting, NextUpstreamRule, ProxyRouteSpec, UpstreamGroupSpec, ValueSource } from './schema.js';
import { normalizeMountpoint } from './static-values.js';
import { suggest } from './suggest.js';
import { parseSeconds } from './units.js';

const GROUP_KEYS = ['server', 'balance', 'proxy-next-upstream', 'connect-timeout', 'read-timeout', 'health-check', 'via'] as const;
const SERVER_PARAMS = ['weight', 'max_fails', 'fail_timeout', 'backup', 'down'] as const;
const BALANCES = ['round-robin', 'least-conn', 'ip-hash', 'hash', 'random-two'] as const;
const NEXT_UPSTREAM_WORDS = ['error', 'timeout', 'http_500', 'http_502', 'http_503', 'http_504', 'http_429', 'non_idempotent', 'off', 'invalid_header'] as const;
const GROUP_NAME = /^[A-Za-z0-9_.-]+$/;

/** nginx's defaults: proxy_next_upstream error timeout; connect 60s in nginx, 5s here (a front should fail over fast). */
const DEFAULT_NEXT: NextUpstreamRule = { error: true, timeout: true, statuses: [], nonIdempotent: false, off: false };

interface Draft {
  name: string;
  source: ValueSource;
  backends: BackendSpec[];
  balance: BalanceSetting;
  nextUpstream: NextUpstreamRule;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  healthCheck: HealthSpec | null;
  via: boolean;
}

export interface ProxyValues {
  readonly upstreams: readonly UpstreamGroupSpec[];
  readonly proxyRoutes: readonly ProxyRouteSpec[];
}

type Fail = (a: Assigned, message: string, fix: string) => void;

function parseServer(text: string, a: Assigned, fail: Fail): BackendSpec | null {
  const words = text.trim().split(/\s+/);
  const url = words[0] ?? '';
  const m = /^(http|uwsgi):\/\/(.*)$/.exec(url);
  if (m === null) {
    fail(a, `server '${url}' is not http://HOST:PORT, uwsgi://HOST:PORT, http:///SOCKET or uwsgi:///SOCKET`, 'write for example server = http://127.0.0.1:9001 or server = uwsgi:///run/app.sock');
    return null;
  }
  const protocol = m[1] as 'http' | 'uwsgi';
  const rest = (m[2] as string).replace(/\/$/, '');
  let target: BackendSpec['target'];
  if (rest.startsWith('/')) target = { kind: 'unix', path: rest };
  else {
    const hp = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(rest);
    const port = hp === null ? NaN : Number(hp[2]);
    if (hp === null || port < 1 || port > 65535) {
      fail(a, `server '${url}' has no valid host:port`, 'write the address as HOST:PORT (a port from 1 to 65535), or /path/to.sock after three slashes');
      return null;
    }
    target = { kind: 'tcp', host: (hp[1] as string).replace(/^\[|\]$/g, ''), port };
  }
  const spec = { url, protocol, target, weight: 1, maxFails: 1, failTimeoutMs: 10_000, backup: false, down: false };
  for (const w of words.slice(1)) {
    const [key, value] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, null];
    if (key === 'backup' || key === 'down') {
      spec[key] = true;
      continue;
    }
    if (value === null || !(SERVER_PARAMS as readonly string[]).includes(key)) {
      const near = suggest(key, SERVER_PARAMS);
      fail(a, `server ${url}: unknown parameter '${w}'`, near !== undefined ? `did you mean '${near}'?` : `the parameters are ${SERVER_PARAMS.join(', ')} (weight=5 max_fails=3 fail_timeout=10s backup down)`);
      continue;
    }
    if (key === 'fail_timeout') {
      const t = parseSeconds(value);
      if (t.ok) spec.failTimeoutMs = t.value;
      else fail(a, `server ${url}: fail_timeout ${t.message}`, t.fix);
      continue;
    }
    const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
    const min = key === 'weight' ? 1 : 0;
    if (!(n >= min)) fail(a, `server ${url}: ${key}=${value} is not a whole number of at least ${min}`, `write ${key}=${min === 1 ? 5 : 3}`);
    else if (key === 'weight') spec.weight = n;
    else spec.maxFails = n;
  }
  if (spec.backup && spec.down) fail(a, `server ${url} is both backup and down`, 'keep one of the two flags');
  return spec;
}

function parseBalance(text: string, a: Assigned, fail: Fail): BalanceSetting | null {
  const words = text.trim().split(/\s+/);
  const kind = words[0] ?? '';
  if (!(BALANCES as readonly string[]).includes(kind)) {
    const near = suggest(kind, BALANCES);
    fail(a, `balance '${text}' is not a balancing policy`, `${near !== undefined ? `did you mean '${near}'? ` : ''}the policies are ${BALANCES.join(', ')}`);
    return null;
  }
  if (kind === 'hash') {
    const key = words[1];
    if (key === undefined || (words[2] !== undefined && words[2] !== 'consistent') || words.length > 3) {
      fail(a, `balance '${text}' needs a key and at most the word consistent`, 'write balance = hash $request_uri consistent');
      return null;
    }
    return { kind: 'hash', key, consistent: words[2] === 'consistent' };
  }
  if (words.length > 1) fail(a, `balance ${kind} takes no arguments, got '${words.slice(1).join(' ')}'`, `write balance = ${kind}`);
  return { kind } as BalanceSetting;
}

function parseNextUpstream(text: string, a: Assigned, fail: Fail): NextUpstreamRule {
  const rule = { error: false, timeout: false, statuses: [] as number[], nonIdempotent: false, off: false };
  for (const w of text.trim().split(/\s+/)) {
    if (!(NEXT_UPSTREAM_WORDS as readonly string[]).includes(w)) {
      const near = suggest(w, NEXT_UPSTREAM_WORDS);
      fail(a, `proxy-next-upstream: unknown condition '${w}'`, `${near !== undefined ? `did you mean '${near}'? ` : ''}use nginx's names: ${NEXT_UPSTREAM_WORDS.join(' ')} (403 and 404 never count)`);
    } else if (w === 'error' || w === 'timeout' || w === 'off') rule[w] = true;
    else if (w === 'non_idempotent') rule.nonIdempotent = true;
    else if (w.startsWith('http_')) rule.statuses.push(Number(w.slice(5)));
  }
  return rule;
}

function durationOf(value: string, a: Assigned, key: string, fail: Fail): number | null {
  const t = parseSeconds(value);
  if (t.ok && t.value > 0) return t.value;
  fail(a, `${key} '${value}' is not a positive duration`, `write ${key} = 5s (or 500ms, 2m)`);
  return null;
}

function readGroups(assigned: readonly Assigned[], fail: Fail): Map<string, Draft> {
  const groups = new Map<string, Draft>();
  for (const a of assigned) {
    const text = (a.value as string).trim();
    const space = text.search(/\s/);
    const name = space < 0 ? text : text.slice(0, space);
    if (!GROUP_NAME.test(name)) {
      fail(a, `upstream group name '${name}' may use only letters, digits, '.', '_' and '-'`, 'write the section as [upstream:api]');
      continue;
    }
    let g = groups.get(name);
    if (g === undefined) {
      g = { name, source: a.source, backends: [], balance: { kind: 'round-robin' }, nextUpstream: DEFAULT_NEXT, connectTimeoutMs: 5_000, readTimeoutMs: 60_000, healthCheck: null, via: true };
      groups.set(name, g);
    }
    if (space < 0) continue;
    const setting = text.slice(space).trim();
    const eq = setting.indexOf('=');
    const key = eq < 0 ? setting : setting.slice(0, eq).trim();
    const value = eq < 0 ? '' : setting.slice(eq + 1).trim();
    if (!(GROUP_KEYS as readonly string[]).includes(key)) {
      const near = suggest(key, GROUP_KEYS);
      fail(a, `unknown key '${key}' in [upstream:${name}]`, near !== undefined ? `did you mean '${near}'?` : `the keys are ${GROUP_KEYS.join(', ')}`);
      continue;
    }
    if (value === '') {
      fail(a, `'${key}' in [upstream:${name}] needs a value`, `write ${key} = …, see docs/proxy.md`);
      continue;
    }
    if (key === 'server') {
      const s = parseServer(value, a, fail);
      if (s !== null) g.backends.push(s);
    } else if (key === 'balance') {
      g.balance = parseBalance(value, a, fail) ?? g.balance;
    } else if (key === 'health-check') {
      const h = parseHealthCheck(value);
      if (isHealthSpecError(h)) fail(a, `health-check in [upstream:${name}]: ${h.problem}`, h.fix);
      else g.healthCheck = h;
    } else if (key === 'via') {
      if (value === 'on' || value === 'off') g.via = value === 'on';
      else fail(a, `via '${value}' in [upstream:${name}] is neither on nor off`, 'write via = off to send no Via field (RFC 9110 §7.6.3), or leave it out (on)');
    } else if (key === 'proxy-next-upstream') {
      g.nextUpstream = parseNextUpstream(value, a, fail);
    } else {
      const ms = durationOf(value, a, key, fail);
      if (ms !== null && key === 'connect-timeout') g.connectTimeoutMs = ms;
      else if (ms !== null) g.readTimeoutMs = ms;
    }
  }
  return groups;
}

/** `[HOST][=]PREFIX` `=` `GROUP[/URI]`: the `=` before a group name (no `=` or `/` in it) ends the route part. */
const ROUTE = /^(.*?)=([A-Za-z0-9_.-]+)(\/[^\s]*)?$/;

function parseRoute(a: Assigned, groups: ReadonlyMap<string, Draft>, fail: Fail): ProxyRouteSpec | null {
  const text = (a.value as string).trim();
  const m = ROUTE.exec(text);
  let where = m === null ? '' : (m[1] as string).trim();
  const group = m === null ? '' : (m[2] as string);
  const uri = m === null ? null : (m[3] ?? null);
  const slash = where.indexOf('/');
  if (m === null || slash < 0) {
    fail(a, `proxy-pass '${text}' is not [HOST][=]PREFIX=GROUP[/URI]`, 'write proxy-pass = /api=api, proxy-pass = /api/=api/v1/ (the prefix replaced by /v1/), proxy-pass = =/login=api (exact path) or proxy-pass = admin.example.com/=api');
    return null;
  }
  let hostPart = where.slice(0, slash);
  const exact = hostPart.endsWith('=');
  if (exact) hostPart = hostPart.slice(0, -1);
  where = where.slice(slash);
  const host = hostPart === '' ? null : hostPart.toLowerCase();
  if (host !== null && !/^(\*\.)?[a-z0-9.-]+$/.test(host)) {
    fail(a, `proxy-pass '${text}': '${host}' is not a host name (exact, or *.example.com)`, 'write the host without a port or scheme');
    return null;
  }
  if (!groups.has(group)) {
    const near = suggest(group, groups.keys());
    const known = groups.size > 0 ? `the groups are ${[...groups.keys()].join(', ')}` : 'there is no [upstream:NAME] section';
    fail(a, `proxy-pass '${text}' names the upstream group '${group}', which is not defined`, `${near !== undefined ? `did you mean '${near}'? ` : ''}${known}; add an [upstream:${group}] section with server = … lines`);
    return null;
  }
  return { host, prefix: exact ? where : normalizeMountpoint(where), exact, writtenPrefix: where, uri, group, source: a.source };
}

/** Groups and routes, or problems naming the line; `staticPrefixes` are static-map mountpoints. */
export function buildProxy(upstreamsA: readonly Assigned[], routesA: readonly Assigned[], staticPrefixes: readonly string[], problems: Problem[]): ProxyValues {
  const fail: Fail = (a, message, fix) => problems.push(problemAt(a.source, { code: 'bad-value', option: a.written, message, fix }));
  const groups = readGroups(upstreamsA, fail);
  for (const g of groups.values()) {
    if (g.backends.length === 0) problems.push(problemAt(g.source, { code: 'bad-value', option: `[upstream:${g.name}]`, message: `[upstream:${g.name}] has no server`, fix: 'add server = http://HOST:PORT (or uwsgi://…) lines to it' }));
    else if (g.backends.every((b) => b.down || b.backup)) problems.push(problemAt(g.source, { code: 'bad-value', option: `[upstream:${g.name}]`, message: `[upstream:${g.name}] has no primary server that is not down`, fix: 'remove down (or backup) from at least one server' }));
  }
  const routes: ProxyRouteSpec[] = [];
  const seen = new Map<string, ProxyRouteSpec>();
  for (const a of routesA) {
    const r = parseRoute(a, groups, fail);
    if (r === null) continue;
    const id = `${r.host ?? ''}${r.exact ? '=' : ''}${r.prefix}`;
    const before = seen.get(id);
    if (before !== undefined) fail(a, `proxy-pass: ${id} is already routed to '${before.group}' (${before.source.kind === 'ini' ? `line ${before.source.line ?? '?'}` : before.source.kind})`, 'keep one route per host and prefix');
    else if (r.host === null && !r.exact && staticPrefixes.includes(r.prefix)) fail(a, `proxy-pass: ${r.prefix} is also a static-map mountpoint`, 'a prefix is served either from files or by a group: move one of them to another prefix');
    seen.set(id, r);
    routes.push(r);
  }
  const upstreams = [...groups.values()].map((g): UpstreamGroupSpec => Object.freeze({ ...g, backends: Object.freeze(g.backends.map((b) => Object.freeze(b))) }));
  return { upstreams: Object.freeze(upstreams), proxyRoutes: Object.freeze(routes) };
}
