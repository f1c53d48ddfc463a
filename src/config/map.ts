/**
 * Maps settings onto the option table: looks each name up (unknown → did-you-mean, planned →
 * "not supported yet", refused → "not supported" with the alternative), parses its value by type, runs option-specific checks, then merges.
 * Within a layer, repeatable options append and others keep the last value (uWSGI's order
 * rule); a higher layer that sets a field replaces the lower layer's values for it entirely.
 * (A scalar repeated within one ini section is reported by the resolver, which sees sections.)
 */
import { parseAddress } from './address.js';
import { parseTlsAddress } from './tls-address.js';
import { parseTlsKeyval } from './tls-keyval.js';
import { findOption, suggestOption } from './options.js';
import type { ConfigField, OptionSpec } from './option-spec.js';
import { problemAt, type Problem } from './problem.js';
import type { ListenAddress, ValueSource } from './schema.js';
import { spellLike, type Setting } from './setting.js';
import { formatSize, parseBool, parseInteger, parseKeyValue, parseSeconds, parseSize, type Parsed } from './units.js';

export type Value = string | number | boolean | ListenAddress | readonly [string, string];

export interface Assigned {
  readonly option: OptionSpec;
  /** As the user wrote the name, or the canonical name for defaults. */
  readonly written: string;
  readonly value: Value;
  /** The value as the user wrote it (null: a bare key). */
  readonly raw: string | null;
  readonly source: ValueSource;
}

export interface MapResult {
  readonly assignments: ReadonlyMap<ConfigField, readonly Assigned[]>;
  /** Fields that had a bad value, so validation does not also call them "missing". */
  readonly failed: ReadonlySet<ConfigField>;
  readonly problems: Problem[];
  readonly warnings: Problem[];
}

/** Parse a raw value (user's or the table's default) as the option's type; null = bare key. */
export function parseValue(option: OptionSpec, raw: string | null, cwd: string): Parsed<Value> {
  if (option.type === 'bool') return parseBool(raw);
  if (raw === null || raw.trim() === '') {
    return { ok: false, message: 'needs a value', fix: `write ${option.name} = <${option.type}>` };
  }
  switch (option.type) {
    case 'int': return parseInteger(raw);
    case 'size': return parseSize(raw);
    case 'seconds': return parseSeconds(raw);
    case 'address': return parseAddress(raw, cwd);
    case 'tls-address': return parseTlsAddress(raw, cwd);
    case 'tls-keyval': return parseTlsKeyval(raw, cwd);
    case 'key=value': return parseKeyValue(raw);
    case 'string':
    case 'path': return { ok: true, value: raw.trim() };
  }
}

function showNumber(option: OptionSpec, n: number): string {
  if (option.type === 'size') return formatSize(n);
  if (option.type === 'seconds') return `${n / 1000}s`;
  return String(n);
}

function checkRange(option: OptionSpec, value: Value): Parsed<Value> {
  if (option.range === undefined || typeof value !== 'number') return { ok: true, value };
  const [lo, hi] = option.range;
  if (value >= lo && value <= hi) return { ok: true, value };
  const span = hi >= Number.MAX_SAFE_INTEGER ? `at least ${showNumber(option, lo)}` : `from ${showNumber(option, lo)} to ${showNumber(option, hi)}`;
  return { ok: false, message: `${showNumber(option, value)} is out of range`, fix: `use a value ${span}` };
}

type Layer = Map<ConfigField, Assigned[]>;

export function mapSettings(layers: readonly (readonly Setting[])[], cwd: string): MapResult {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const failed = new Set<ConfigField>();
  const merged = new Map<ConfigField, readonly Assigned[]>();
  for (const settings of layers) {
    const layer: Layer = new Map();
    for (const s of settings) mapOne(s, cwd, layer, { problems, warnings, failed });
    for (const [field, list] of layer) merged.set(field, list);
  }
  return { assignments: merged, failed, problems, warnings };
}

interface Sink { problems: Problem[]; warnings: Problem[]; failed: Set<ConfigField> }

function mapOne(s: Setting, cwd: string, layer: Layer, sink: Sink): void {
  const option = findOption(s.name);
  if (option === undefined) {
    const near = suggestOption(s.name);
    sink.problems.push(problemAt(s.source, {
      code: 'unknown-option', option: s.written, message: `unknown option '${s.written}'`,
      fix: near !== undefined ? `did you mean '${spellLike(s.source, near)}'?` : 'see berth --help or docs/configuration.md for the options Berth reads',
    }));
    return;
  }
  if (option.status === 'planned') {
    sink.problems.push(problemAt(s.source, { code: 'not-supported-yet', option: s.written, message: `option '${s.written}' is not supported yet`, fix: option.reason ?? 'remove it' }));
    return;
  }
  if (option.status === 'refused') {
    sink.problems.push(problemAt(s.source, { code: 'not-supported', option: s.written, message: `option '${s.written}' is a uWSGI option Berth does not support`, fix: option.reason ?? 'remove it' }));
    return;
  }
  let parsed = option.optionalValue === true && option.type === 'string' ? { ok: true as const, value: s.value ?? '' } : parseValue(option, s.value, cwd);
  if (parsed.ok) parsed = checkRange(option, parsed.value);
  if (!parsed.ok) {
    if (option.field !== undefined) sink.failed.add(option.field);
    const missing = s.value === null || s.value.trim() === '';
    const message = missing ? `option '${s.written}' needs a value` : `option '${s.written}': ${parsed.message}`;
    const fix = missing ? `write ${s.source.kind === 'argv' ? `${s.written} <${option.type}>` : `${s.written} = <${option.type}>`}` : parsed.fix;
    sink.problems.push(problemAt(s.source, { code: missing ? 'missing-value' : 'bad-value', option: s.written, message, fix }));
    return;
  }
  const note = option.check?.(s.value);
  if (note !== undefined) {
    const p = problemAt(s.source, { code: note.severity === 'problem' ? 'bad-value' : 'no-effect', option: s.written, message: note.message, fix: note.fix });
    (note.severity === 'problem' ? sink.problems : sink.warnings).push(p);
  }
  if (option.field === undefined) return;
  const assigned: Assigned = { option, written: s.written, value: parsed.value, raw: s.value, source: s.source };
  const list = layer.get(option.field);
  if (option.repeatable) {
    if (list) list.push(assigned);
    else layer.set(option.field, [assigned]);
    return;
  }
  layer.set(option.field, [assigned]);
}
