/**
 * The one-screen summary printed at start and by `berth check`: the listeners and their
 * protocols, the app, the interpreter, workers × threads, the static mappings, and where the
 * stats, metrics and dashboard answer.
 */
import type { Config, ListenAddress } from './schema.js';

/** A listener as the master bound it (the real port when the config said 0). */
export interface SummaryListener {
  readonly address: ListenAddress;
  readonly display: string;
  /** uwsgi-direct: the workers accept on it themselves. */
  readonly direct: boolean;
}

export interface SummaryFacts {
  /** The interpreter the workers run, and its version once a worker has reported it. */
  readonly python: { readonly path: string; readonly chosenBy: string; readonly version: string | null } | null;
  /** Bound listeners; without them the configured addresses are shown. */
  readonly listeners?: readonly SummaryListener[];
}

function protocolOf(a: ListenAddress, direct: boolean): string {
  const transport = a.kind === 'unix' ? 'unix socket' : 'TCP';
  const via = a.via ?? 'http';
  if (via === 'socket') return `${a.tls !== undefined ? 'ssl-socket = uwsgi protocol over TLS' : 'socket = uwsgi protocol'}, ${transport}${direct ? ', the workers accept (uwsgi-direct)' : ''}`;
  if (a.tls !== undefined) return `${via === 'http' ? 'https' : 'https-socket'} = HTTP/1.1 over TLS, ${transport}, the master's`;
  return `${via} = HTTP/1.1, ${transport}`;
}

/** How a listener's URL starts: http, https, uwsgi or suwsgi (nginx's name for uwsgi over TLS). */
export function schemeOf(a: ListenAddress): string {
  if (a.via === 'socket') return a.tls !== undefined ? 'suwsgi' : 'uwsgi';
  return a.tls !== undefined ? 'https' : 'http';
}

function listenerLines(c: Config, facts: SummaryFacts): string[] {
  const listeners = facts.listeners ?? [...c.http, ...c.uwsgi].map((address) => ({
    address,
    display: address.kind === 'unix' ? address.path : address.text,
    direct: c.uwsgiDirect && address.via === 'socket' && address.tls === undefined,
  }));
  if (listeners.length === 0) return ['(none: add http = :8000, http-socket = :8000 or socket = :3031)'];
  return listeners.map((l) => `${l.address.kind === 'unix' ? l.display : `${schemeOf(l.address)}://${l.display}`}  (${protocolOf(l.address, l.direct)})`);
}

function appLine(c: Config): string {
  const parts: string[] = [];
  if (c.module !== null) parts.push(`module ${c.module}${c.callable !== 'application' ? ` (callable ${c.callable})` : ''}`);
  else if (c.wsgiFile !== null) parts.push(`wsgi-file ${c.wsgiFile}${c.callable !== 'application' ? ` (callable ${c.callable})` : ''}`);
  for (const m of c.mounts) parts.push(`mount ${m.prefix} = ${m.app}`);
  if (parts.length === 0) parts.push('(none)');
  if (c.chdir !== null) parts.push(`chdir ${c.chdir}`);
  if (c.home !== null) parts.push(`virtualenv ${c.home}`);
  return parts.join('; ');
}

function staticLine(c: Config): string {
  const maps = c.staticMaps.map((m) => `${m.mountpoint} → ${m.root}${m.keepMountpoint ? ' (static-map2)' : ''}`);
  if (c.staticFromDjango) maps.push("Django's STATIC_URL/MEDIA_URL (static-from-django, found when the app loads)");
  for (const dir of c.checkStatic) maps.push(`check-static ${dir}`);
  return maps.length > 0 ? maps.join('; ') : '(none)';
}

/** Where stats, metrics and the dashboard answer (docs/observability.md). */
function observabilityLines(c: Config): [string, string][] {
  const stats = c.stats?.text ?? null;
  const metrics = c.metrics?.text ?? null;
  const web = (address: string): string => (address.startsWith('/') ? `unix:${address}` : `http://${address.startsWith(':') ? `127.0.0.1${address}` : address}`);
  const rows: [string, string][] = [];
  if (stats === null) rows.push(['stats', "off (stats = 127.0.0.1:9191 serves uWSGI's stats JSON; with stats-http also /metrics and /dashboard)"]);
  else rows.push(['stats', `${stats} (uWSGI stats JSON${c.statsHttp ? ' over HTTP' : ', read to EOF: uwsgitop, berth top'})`]);
  if (metrics !== null) rows.push(['metrics', `${web(metrics)}/metrics`]);
  else if (stats !== null && c.statsHttp) rows.push(['metrics', `${web(stats)}/metrics`]);
  if (stats !== null && c.statsHttp) rows.push(['dashboard', `${web(stats)}/dashboard`]);
  return rows;
}

export function summarizeConfig(c: Config, facts: SummaryFacts): string[] {
  const python = facts.python === null ? '(not resolved)' : `${facts.python.path}${facts.python.version !== null ? ` (Python ${facts.python.version})` : ''}, ${facts.python.chosenBy}`;
  const rows: [string, string | string[]][] = [
    ['listeners', listenerLines(c, facts)],
    ['app', appLine(c)],
    ['python', python],
    ['workers', `${c.processes} × ${c.threads} thread${c.threads === 1 ? '' : 's'}, ${c.lazyApps ? 'lazy-apps' : 'preload'}`],
    ['static', staticLine(c)],
    ...observabilityLines(c),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines: string[] = [];
  for (const [name, value] of rows) {
    const values = Array.isArray(value) ? value : [value];
    values.forEach((v, i) => lines.push(`${(i === 0 ? name : '').padEnd(width)}  ${v}`));
  }
  return lines;
}

/**
 * The route table in the order the front tries it: exact proxy routes, then proxy routes and
 * static mappings by longest prefix (a route for one host before one for any host), then the app or a 404.
 */
export function routeTableLines(c: Config): string[] {
  const rows: { host: string | null; exact: boolean; prefix: string; text: string }[] = [];
  for (const r of c.proxyRoutes) {
    const group = c.upstreams.find((u) => u.name === r.group);
    const servers = group?.backends.map((b) => `${b.url}${b.weight !== 1 ? ` weight=${b.weight}` : ''}${b.backup ? ' backup' : ''}${b.down ? ' down' : ''}`).join(', ') ?? '';
    const rewrite = r.uri === null ? '' : ` (${r.writtenPrefix} sent as ${r.uri})`;
    rows.push({ host: r.host, exact: r.exact, prefix: r.prefix, text: `proxy → [upstream:${r.group}]${rewrite} ${group?.balance.kind ?? ''}: ${servers}` });
  }
  for (const m of c.staticMaps) rows.push({ host: null, exact: false, prefix: m.mountpoint, text: `static → ${m.root}${m.keepMountpoint ? ' (static-map2)' : ''}` });
  // nginx's order: exact paths first, then the longest prefix.
  rows.sort((a, b) => Number(b.exact) - Number(a.exact) || b.prefix.length - a.prefix.length || Number(b.host !== null) - Number(a.host !== null));
  const lines = rows.map((r) => `${r.host ?? '*'}${r.exact ? '=' : ''}${r.prefix}  ${r.text}`);
  const app = c.module ?? c.wsgiFile;
  if (!c.proxyRoutes.some((r) => r.host === null && !r.exact && r.prefix === '/')) lines.push(`*/  ${app !== null ? `app ${app}` : c.needApp ? '404 (pure front: no module or wsgi-file)' : '500 (need-app = false: no app)'}`);
  return lines;
}
