/**
 * The observability part of the Config (stats server, metrics, redaction) and `written`, the
 * options as the user wrote them, which the stats document shows with secrets masked.
 */
import type { Assigned, MapResult, Value } from './map.js';
import type { ConfigField } from './option-spec.js';
import { problemAt, type Problem } from './problem.js';
import type { Config, ListenAddress } from './schema.js';

export type StatsConfig = Pick<Config, 'stats' | 'statsHttp' | 'statsMinified' | 'statsNoCores' | 'metrics' | 'statsRedact' | 'statsShowSecrets' | 'written'>;

/** Whether only this machine can connect: a unix socket (file permissions decide) or a loopback host. */
export function isPrivateAddress(a: ListenAddress): boolean {
  if (a.kind === 'unix') return true;
  const h = a.host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function buildStats(
  mapped: MapResult,
  valueOf: <T extends Value>(f: ConfigField) => T,
  warnings: Problem[],
): StatsConfig {
  const last = (f: ConfigField): Assigned | undefined => mapped.assignments.get(f)?.at(-1);
  const address = (f: ConfigField, what: string): ListenAddress | null => {
    const a = last(f);
    if (a === undefined) return null;
    const addr = a.value as ListenAddress;
    if (addr.kind === 'tcp' && !isPrivateAddress(addr)) {
      const who = addr.host === '' ? 'anyone who can reach this machine on any of its networks' : `anyone who can reach ${addr.host}`;
      warnings.push(problemAt(a.source, {
        code: 'stats-exposed', option: a.written,
        message: `${a.written} = ${addr.text}: ${who} can read ${what} (worker pids, request paths and the config in effect)`,
        fix: `bind it to 127.0.0.1:${addr.port} or a unix socket path, and read it over ssh or through a proxy that checks who asks`,
      }));
    }
    return addr;
  };
  const written: Record<string, string | string[]> = {};
  for (const list of mapped.assignments.values()) {
    for (const a of list) {
      const shown = a.raw ?? 'true';
      if (!a.option.repeatable) written[a.option.name] = shown;
      else ((written[a.option.name] as string[] | undefined) ?? (written[a.option.name] = [])).push(shown);
    }
  }
  return {
    stats: address('stats', 'the stats document'),
    statsHttp: valueOf<boolean>('statsHttp'),
    statsMinified: valueOf<boolean>('statsMinified'),
    statsNoCores: valueOf<boolean>('statsNoCores'),
    metrics: address('metrics', 'the Prometheus metrics'),
    statsRedact: Object.freeze((mapped.assignments.get('statsRedact') ?? []).map((a) => (a.value as string).trim().toLowerCase())),
    statsShowSecrets: valueOf<boolean>('statsShowSecrets'),
    written: Object.freeze(written),
  };
}
