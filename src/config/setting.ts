/**
 * One option assignment as read from the command line, an ini file or the environment, before
 * it is checked against the option table. Readers produce these in order; later stages look
 * them up, parse them and merge them.
 */
import type { ValueSource } from './schema.js';

export interface Setting {
  /** Long option name to look up (no dashes, no BERTH_ prefix): 'processes', 'process', 'wsgi-file'. */
  readonly name: string;
  /** Exactly as the user wrote it, for messages: 'process', '--process', '-p', 'BERTH_PROCESS'. */
  readonly written: string;
  /** null = a bare ini key or a flag without a value. */
  readonly value: string | null;
  readonly source: ValueSource;
}

/** How an option name is spelt in the place a setting came from, for did-you-mean answers. */
export function spellLike(source: ValueSource, name: string): string {
  if (source.kind === 'argv') return `--${name}`;
  if (source.kind === 'env') return envNameFor(name);
  return name;
}

/** BERTH_ + upper case, '-' → '_': buffer-size → BERTH_BUFFER_SIZE. */
export function envNameFor(name: string): string {
  return `BERTH_${name.toUpperCase().replace(/-/g, '_')}`;
}
