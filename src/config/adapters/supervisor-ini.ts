/**
 * Reads a supervisord.conf as supervisor does (supervisord.conf(5), Python's ConfigParser):
 * `key = value` or `key: value`, `;`/`#` comment lines, ` ;` inline comments, indented
 * continuation lines, `[include] files =` globs relative to the including file, and the
 * `%(here)s` / `%(ENV_X)s` / `%(program_name)s` / `%(host_node_name)s` expansions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { BerthError } from '../../errors/berth-error.js';

export interface SupervisorEntry { readonly value: string; readonly line: number }

export interface SupervisorSection {
  /** As written between the brackets: `program:my_crm`, `unix_http_server`. */
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly entries: Map<string, SupervisorEntry>;
}

/** A supervisord.conf that cannot be read or parsed (BERTH_CONFIG_INVALID, as any unusable configuration). */
function unusable(message: string): BerthError {
  return new BerthError('BERTH_CONFIG_INVALID', message);
}

function globFiles(pattern: string): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!/[*?[]/.test(base)) return [pattern];
  const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  return names.filter((n) => re.test(n)).sort().map((n) => path.join(dir, n));
}

function parseFile(file: string, into: SupervisorSection[], seen: Set<string>): void {
  if (seen.has(file)) return;
  seen.add(file);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    throw unusable(`cannot read ${file}: ${(err as Error).message}`);
  }
  let section: SupervisorSection | null = null;
  let lastKey: string | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (/^\s*[;#]/.test(raw) || raw.trim() === '') return;
    if (/^\s/.test(raw) && section !== null && lastKey !== null) {
      const e = section.entries.get(lastKey);
      if (e !== undefined) section.entries.set(lastKey, { value: `${e.value}\n${stripComment(raw.trim())}`, line: e.line });
      return;
    }
    const header = /^\[([^\]]+)\]/.exec(raw);
    if (header !== null) {
      section = { name: (header[1] as string).trim(), file, line, entries: new Map() };
      into.push(section);
      lastKey = null;
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (kv === null || section === null) throw unusable(`${file} line ${line}: '${raw.trim()}' is neither a [section] nor key = value`);
    lastKey = (kv[1] as string).trim().toLowerCase();
    section.entries.set(lastKey, { value: stripComment(kv[2] as string), line });
  });
}

/** ConfigParser (inline_comment_prefixes) ends a value at `;` preceded by whitespace. */
function stripComment(value: string): string {
  return value.replace(/\s;.*$/, '').trim();
}

/** %(name)s expansions; `%%` is a percent sign. Unknown names are left as written, and reported. */
export function expand(value: string, vars: Readonly<Record<string, string>>, unknown: Set<string>): string {
  return value.replace(/%%|%\(([^)]+)\)([sd])/g, (all, name: string | undefined) => {
    if (name === undefined) return '%';
    const v = vars[name];
    if (v === undefined) { unknown.add(name); return all; }
    return v;
  });
}

/** Every section of `file` and of the files its [include] sections name, includes expanded in place. */
export function readSupervisorConfig(file: string, env: Readonly<Record<string, string | undefined>>): { sections: SupervisorSection[]; unknownExpansions: string[] } {
  const sections: SupervisorSection[] = [];
  const seen = new Set<string>();
  const unknown = new Set<string>();
  const base: Record<string, string> = { host_node_name: hostname() };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) base[`ENV_${k}`] = v;
  const visit = (f: string): void => {
    const own: SupervisorSection[] = [];
    parseFile(f, own, seen);
    for (const s of own) {
      const vars: Record<string, string> = { ...base, here: path.dirname(path.resolve(f)) };
      const colon = s.name.indexOf(':');
      if (colon > 0) { vars['program_name'] = s.name.slice(colon + 1); vars['group_name'] = s.name.slice(colon + 1); vars['process_num'] = '0'; }
      for (const [k, e] of s.entries) s.entries.set(k, { value: expand(e.value, vars, unknown), line: e.line });
      sections.push(s);
      if (s.name !== 'include') continue;
      const files = s.entries.get('files')?.value ?? '';
      for (const pattern of files.split(/\s+/).filter((p) => p !== '')) {
        for (const inc of globFiles(path.resolve(path.dirname(path.resolve(f)), pattern))) visit(inc);
      }
    }
  };
  visit(path.resolve(file));
  return { sections, unknownExpansions: [...unknown] };
}
