/**
 * The `health-check` key of an `[upstream:NAME]` section, parsed into a HealthSpec:
 *
 *   health-check = /health/ interval=5s timeout=2s rise=2 fall=3 status=200-399
 *   health-check = tcp interval=2s               ; connect only, for any backend
 *
 * The first word is the path to GET (http backends: an HTTP request; uwsgi backends: a uwsgi
 * packet for that path) or `tcp`. Every other word is NAME=VALUE; all are optional.
 */
import { parseInteger, parseSeconds } from './units.js';

export interface HealthSpec {
  /** 'request': GET `path` and check the status; 'connect': a connection that opens passes. */
  readonly mode: 'request' | 'connect';
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive passes that bring a failed backend back. */
  readonly rise: number;
  /** Consecutive failures that take a healthy backend out. */
  readonly fall: number;
  /** The statuses that pass, inclusive. */
  readonly statusMin: number;
  readonly statusMax: number;
}

/** What is wrong with a `health-check` value and how to fix it; the config loader adds the file and line. */
export interface HealthSpecError {
  readonly problem: string;
  readonly fix: string;
}

export const HEALTH_DEFAULTS = { intervalMs: 5000, timeoutMs: 2000, rise: 2, fall: 3, statusMin: 200, statusMax: 399 } as const;

const EXAMPLE = 'health-check = /health/ interval=5s timeout=2s rise=2 fall=3 status=200-399';

export function isHealthSpecError(x: HealthSpec | HealthSpecError): x is HealthSpecError {
  return 'problem' in x;
}

export function parseHealthCheck(value: string): HealthSpec | HealthSpecError {
  const words = value.trim().split(/\s+/).filter((w) => w !== '');
  const first = words[0];
  if (first === undefined) return { problem: 'health-check is empty', fix: `name a path to check or tcp, for example ${EXAMPLE}` };
  if (first !== 'tcp' && !first.startsWith('/')) {
    return { problem: `health-check starts with '${first}', which is neither a path nor tcp`, fix: `start with the path to GET (/health/) or tcp, for example ${EXAMPLE}` };
  }
  const spec = { mode: first === 'tcp' ? 'connect' : 'request', path: first === 'tcp' ? '' : first, ...HEALTH_DEFAULTS } as { -readonly [K in keyof HealthSpec]: HealthSpec[K] };
  for (const word of words.slice(1)) {
    const at = word.indexOf('=');
    const name = at < 0 ? word : word.slice(0, at);
    const text = at < 0 ? '' : word.slice(at + 1);
    const problem = applySetting(spec, name, text);
    if (problem !== null) return problem;
  }
  if (spec.timeoutMs > spec.intervalMs) {
    return { problem: `health-check timeout=${spec.timeoutMs}ms is longer than interval=${spec.intervalMs}ms`, fix: 'make the timeout at most the interval, so one check ends before the next starts' };
  }
  return spec;
}

function applySetting(spec: { -readonly [K in keyof HealthSpec]: HealthSpec[K] }, name: string, text: string): HealthSpecError | null {
  switch (name) {
    case 'interval':
    case 'timeout': {
      const ms = parseSeconds(text);
      if (!ms.ok || ms.value <= 0) return { problem: `health-check ${name}='${text}' is not a positive duration`, fix: `write ${name}=5s or ${name}=500ms` };
      if (name === 'interval') spec.intervalMs = ms.value;
      else spec.timeoutMs = ms.value;
      return null;
    }
    case 'rise':
    case 'fall': {
      const n = parseInteger(text);
      if (!n.ok || n.value < 1 || n.value > 100) return { problem: `health-check ${name}='${text}' is not a count from 1 to 100`, fix: `write ${name}=2` };
      if (name === 'rise') spec.rise = n.value;
      else spec.fall = n.value;
      return null;
    }
    case 'status': {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(text);
      const lo = m ? Number(m[1]) : 0;
      const hi = m ? Number(m[2] ?? m[1]) : 0;
      if (!m || lo < 100 || hi > 599 || lo > hi) return { problem: `health-check status='${text}' is not a status or a range of statuses`, fix: 'write status=200 or status=200-399' };
      if (spec.mode === 'connect') return { problem: 'health-check tcp only opens a connection, so status= cannot apply', fix: 'drop status=, or check a path instead of tcp' };
      spec.statusMin = lo;
      spec.statusMax = hi;
      return null;
    }
    default:
      return { problem: `health-check has an unknown setting '${name}'`, fix: 'use interval=, timeout=, rise=, fall= or status=' };
  }
}
