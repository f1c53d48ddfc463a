/**
 * `berth check` output: every resolved setting, in option-table order, with where its value
 * came from (an ini line, the command line, an environment variable, or the default).
 */
import type { ConfigField } from './option-spec.js';
import { OPTIONS, primaryOptionFor } from './options.js';
import { describeSource } from './problem.js';
import type { Config } from './schema.js';
import { formatSize } from './units.js';

function show(c: Config, field: ConfigField): string {
  switch (field) {
    case 'http':
    case 'uwsgi': return c[field].length > 0 ? c[field].map((a) => a.text).join(', ') : '(none)';
    case 'env': return c.env.length > 0 ? c.env.map(([k, v]) => `${k}=${v}`).join(', ') : '(none)';
    case 'pythonpath': return c.pythonpath.length > 0 ? c.pythonpath.join(', ') : '(none)';
    case 'programs': return c.programs.length > 0 ? c.programs.map((p) => `${p.name} (${p.origin === 'program' ? `[program:${p.program}]` : p.origin}; stopasgroup=${p.stopasgroup}, killasgroup=${p.killasgroup})`).join(', ') : '(none)';
    case 'bufferSizeBytes': return `${formatSize(c.bufferSizeBytes)} (${c.bufferSizeBytes} bytes)`;
    case 'limitPostBytes': return c.limitPostBytes === 0 ? 'unlimited' : `${formatSize(c.limitPostBytes)} (${c.limitPostBytes} bytes)`;
    case 'spoolLimitBytes': return c.spoolLimitBytes === 0 ? 'no cap' : `${formatSize(c.spoolLimitBytes)} (${c.spoolLimitBytes} bytes)`;
    case 'httpTimeoutMs': return `${c.httpTimeoutMs / 1000}s`;
    case 'socketTimeoutMs': return `${c.socketTimeoutMs / 1000}s`;
    case 'staticMaps': return c.staticMaps.length > 0 ? c.staticMaps.map((m) => `${m.mountpoint}=${m.root}${m.keepMountpoint ? ' (map2)' : ''}`).join(', ') : '(none)';
    case 'staticExpiresType':
    case 'staticExpires':
    case 'staticExpiresUri': return c[field].length > 0 ? c[field].map((r) => `${r.match}=${r.seconds}s`).join(', ') : '(none)';
    case 'checkStatic':
    case 'staticIndex':
    case 'staticSkipExt':
    case 'staticSafe':
    case 'mimefiles':
    case 'plugins': return c[field].length > 0 ? c[field].join(', ') : '(none)';
    case 'upstreams': return c.upstreams.length > 0 ? c.upstreams.map((u) => `${u.name} (${u.backends.length} server${u.backends.length === 1 ? '' : 's'})`).join(', ') : '(none)';
    case 'proxyRoutes': return c.proxyRoutes.length > 0 ? c.proxyRoutes.map((r) => `${r.host ?? ''}${r.exact ? '=' : ''}${r.writtenPrefix}=${r.group}${r.uri ?? ''}`).join(', ') : '(none)';
    case 'python': return c.python ?? (c.home !== null ? `(the virtualenv's bin/python)` : '(python3 on PATH)');
    default: {
      const v = c[field];
      // Stored in milliseconds, shown in the unit the option is written and documented in.
      if (typeof v === 'number' && primaryOptionFor(field)?.type === 'seconds') return `${v / 1000}s`;
      return v === null ? '(not set)' : String(v);
    }
  }
}

export function describeConfig(c: Config): string {
  const rows: [string, string, string][] = [];
  for (const opt of OPTIONS) {
    if (opt.field === undefined || opt.status !== 'supported' || primaryOptionFor(opt.field) !== opt) continue;
    const source = c.sources[opt.name];
    rows.push([opt.name, show(c, opt.field), source !== undefined ? describeSource(source) : 'default']);
  }
  const nameWidth = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.min(48, Math.max(...rows.map((r) => r[1].length)));
  return rows.map(([n, v, s]) => `  ${n.padEnd(nameWidth)}  ${v.padEnd(valueWidth)}  ${s}`).join('\n') + '\n';
}
