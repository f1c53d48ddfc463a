/**
 * A configuration problem (or warning): what is wrong, where the user wrote it, and how to fix
 * it. The loader collects these instead of throwing, so one run reports everything.
 */
import type { ValueSource } from './schema.js';

export interface Problem {
  /** Stable kebab-case code, e.g. 'unknown-option', 'not-supported-yet', 'bad-value'. */
  readonly code: string;
  /** The option name as the user wrote it: 'process', '--process', 'BERTH_PROCESS'. */
  readonly option?: string;
  readonly file?: string;
  readonly line?: number;
  /** Where, when it is not a file: 'command line', 'environment variable BERTH_HTTP'. */
  readonly where?: string;
  readonly message: string;
  readonly fix?: string;
}

/** "line 7 of /srv/uwsgi.ini", "command line", "environment variable BERTH_PROCESSES", "default". */
export function describeSource(source: ValueSource): string {
  switch (source.kind) {
    case 'ini': return source.line !== undefined ? `line ${source.line} of ${source.file ?? '?'}` : (source.file ?? 'ini file');
    case 'argv': return 'command line';
    case 'env': return `environment variable ${source.envName ?? '?'}`;
    case 'default': return 'default';
  }
}

/** Place a problem at the source of a value. */
export function problemAt(source: ValueSource | undefined, fields: Omit<Problem, 'file' | 'line' | 'where'>): Problem {
  if (source === undefined || source.kind === 'default') return fields;
  if (source.kind === 'ini') return { ...fields, file: source.file, line: source.line };
  return { ...fields, where: describeSource(source) };
}

/** unknown option 'process' (line 7 of /srv/uwsgi.ini) — did you mean 'processes'? */
export function formatProblem(p: Problem): string {
  let where = p.where;
  if (p.file !== undefined) where = p.line !== undefined ? `line ${p.line} of ${p.file}` : p.file;
  return `${p.message}${where !== undefined ? ` (${where})` : ''}${p.fix !== undefined ? ` — ${p.fix}` : ''}`;
}
