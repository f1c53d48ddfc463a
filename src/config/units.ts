/**
 * Parsers for the value kinds option values come in. Each returns a Parsed result instead of
 * throwing, so the loader can collect every bad value at once and say how to write it.
 */

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string; readonly fix: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(message: string, fix: string): Parsed<T> => ({ ok: false, message, fix });

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** A bare key (null) or an empty value means true, as in uWSGI; anything unexpected is refused rather than guessed. */
export function parseBool(text: string | null): Parsed<boolean> {
  if (text === null || text.trim() === '') return ok(true);
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return bad(`'${text}' is not a boolean`, 'write true or false (also accepted: 1/0, yes/no, on/off)');
}

export function parseInteger(text: string): Parsed<number> {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) return bad(`'${text}' is not a whole number`, 'write digits only, for example 4');
  const n = Number(t);
  if (!Number.isSafeInteger(n)) return bad(`'${text}' is too large`, 'write a smaller number');
  return ok(n);
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** Bytes: `65536`, `64k`, `64KB`, `1m`, `1g` (binary multiples, as uWSGI and nginx use them). */
export function parseSize(text: string): Parsed<number> {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m?.[2]?.toLowerCase() ?? '';
  const mult = SIZE_UNITS[unit];
  if (!m || mult === undefined) return bad(`'${text}' is not a size`, 'write bytes (65536) or a number with k, m or g (64k, 1m)');
  const n = Number(m[1]) * mult;
  if (!Number.isSafeInteger(n)) return bad(`'${text}' is too large`, 'write a smaller size');
  return ok(n);
}

const SECOND_UNITS: Readonly<Record<string, number>> = { '': 1000, s: 1000, ms: 1, m: 60_000, h: 3_600_000 };

/** Seconds as uWSGI writes them (`60`), also `1.5`, `500ms`, `2m`, `1h`; returned in milliseconds. */
export function parseSeconds(text: string): Parsed<number> {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m?.[2]?.toLowerCase() ?? '';
  const mult = SECOND_UNITS[unit];
  if (!m || mult === undefined) return bad(`'${text}' is not a duration`, 'write seconds (60), or a number with ms, s, m or h (500ms, 2m)');
  return ok(Math.round(Number(m[1]) * mult));
}

/** `KEY=VALUE`; the value may be empty or contain '=' itself. */
export function parseKeyValue(text: string): Parsed<readonly [string, string]> {
  const at = text.indexOf('=');
  const key = at < 0 ? '' : text.slice(0, at).trim();
  if (at < 0 || key === '') return bad(`'${text}' is not KEY=VALUE`, 'write it as NAME=value, for example DJANGO_SETTINGS_MODULE=mysite.settings');
  return ok([key, text.slice(at + 1)] as const);
}

/** Byte counts for messages: 65536 → "64k", 1048576 → "1m". */
export function formatSize(bytes: number): string {
  for (const [unit, mult] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) {
    if (bytes >= mult && bytes % mult === 0) return `${bytes / mult}${unit}`;
  }
  return String(bytes);
}
