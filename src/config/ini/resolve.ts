/**
 * Turns the ordered settings of one layer (command line or environment) into a flat list:
 * `ini` entries are replaced, in place, by the settings of the file they name (recursively,
 * relative to the including file, cycles refused); `set-placeholder` entries are consumed;
 * ini values get their %-variables and $(ENV) expanded. Placeholders and "last value of each
 * option" (for %(option)) live on one resolver per load, so later layers see earlier ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findOption } from '../options.js';
import { problemAt, type Problem } from '../problem.js';
import type { ValueSource } from '../schema.js';
import type { Setting } from '../setting.js';
import { parseKeyValue } from '../units.js';
import { expandValue } from './expand.js';
import { lexIni, type IniEntry } from './lexer.js';
import { supervisorSectionProblems } from './supervisor-sections.js';
import type { ProgramSection } from '../program-sections.js';

export interface ResolverDeps {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Injected so unit tests can run in memory; defaults to the real file system. */
  readonly readFile?: (file: string) => string;
  readonly isFile?: (file: string) => boolean;
}

/** Sections read when `--ini file` names none: uWSGI's, then Berth's own (which wins). */
const DEFAULT_SECTIONS = ['uwsgi', 'berth'] as const;

const UPSTREAM_SECTION = 'upstream:';

/**
 * `[upstream:NAME]` sections become `upstream` settings on their own lines: `upstream = NAME`
 * for the header (so an empty section is still seen), `upstream = NAME KEY=VALUE` per key.
 * ../proxy-values.ts checks the keys, so a misspelt one is refused naming its line.
 */
function upstreamEntries(lexed: ReturnType<typeof lexIni>): IniEntry[] {
  const out: IniEntry[] = [];
  for (const h of lexed.headers) {
    if (h.name.startsWith(UPSTREAM_SECTION)) out.push({ section: h.name, key: 'upstream', value: h.name.slice(UPSTREAM_SECTION.length).trim(), line: h.line });
  }
  for (const e of lexed.entries) {
    if (!e.section.startsWith(UPSTREAM_SECTION)) continue;
    out.push({ section: e.section, key: 'upstream', value: `${e.section.slice(UPSTREAM_SECTION.length).trim()} ${e.key}=${e.value ?? ''}`, line: e.line });
  }
  return out.sort((a, b) => a.line - b.line);
}

function realIsFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export class SettingResolver {
  readonly #deps: ResolverDeps;
  readonly #placeholders = new Map<string, string>();
  readonly #last = new Map<string, string>();
  /** Files (with section) being read, outermost first, to refuse include cycles. */
  readonly #stack: string[] = [];
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];
  /** The [program:x] sections of every file read, for supervision (program-sections.ts). */
  readonly programSections: ProgramSection[] = [];

  constructor(deps: ResolverDeps) {
    this.#deps = deps;
  }

  resolve(items: readonly Setting[]): Setting[] {
    const out: Setting[] = [];
    for (const s of items) this.#take(s, this.#deps.cwd, out);
    return out;
  }

  #take(s: Setting, baseDir: string, out: Setting[]): void {
    const opt = findOption(s.name);
    if (opt?.role === 'include' || opt?.role === 'placeholder') {
      if (s.value === null || s.value.trim() === '') {
        this.problems.push(problemAt(s.source, { code: 'missing-value', option: s.written, message: `option '${s.written}' needs a value`, fix: opt.role === 'include' ? `write ${s.written} = file.ini` : `write ${s.written} = name=value` }));
      } else if (opt.role === 'include') {
        this.#include(s.value.trim(), baseDir, s, out);
      } else {
        const kv = parseKeyValue(s.value);
        if (kv.ok) this.#placeholders.set(kv.value[0], kv.value[1]);
        else this.problems.push(problemAt(s.source, { code: 'bad-value', option: s.written, message: `${s.written}: ${kv.message}`, fix: kv.fix }));
      }
      return;
    }
    if (s.value !== null) this.#last.set(opt?.name ?? s.name, s.value);
    out.push(s);
  }

  /** `file` or `file:section`; a colon belongs to the file name when that file exists. */
  #splitSpec(spec: string, baseDir: string): { file: string; section?: string } {
    const whole = path.resolve(baseDir, spec);
    const colon = spec.lastIndexOf(':');
    if (colon > 0 && !(this.#deps.isFile ?? realIsFile)(whole) && !spec.slice(colon + 1).includes('/')) {
      return { file: path.resolve(baseDir, spec.slice(0, colon)), section: spec.slice(colon + 1) };
    }
    return { file: whole };
  }

  #include(spec: string, baseDir: string, from: Setting, out: Setting[]): void {
    const { file, section } = this.#splitSpec(spec, baseDir);
    const key = section === undefined ? file : `${file}:${section}`;
    if (this.#stack.includes(key)) {
      const chain = [...this.#stack.slice(this.#stack.indexOf(key)), key].join(' → ');
      this.problems.push(problemAt(from.source, { code: 'ini-cycle', option: from.written, message: `ini files include each other: ${chain}`, fix: 'remove one of the ini = … lines that close the loop' }));
      return;
    }
    let text: string;
    try {
      text = (this.#deps.readFile ?? ((f: string) => fs.readFileSync(f, 'utf8')))(file);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `cannot be read (${(err as Error).message})`;
      const relativeTo = from.source.kind === 'ini' ? `the including file's directory ${baseDir}` : `the current directory ${baseDir}`;
      this.problems.push(problemAt(from.source, { code: 'ini-not-found', option: from.written, message: `ini file ${file} ${why}`, fix: `check the path; relative paths are resolved from ${relativeTo}` }));
      return;
    }
    this.#stack.push(key);
    for (const entry of this.#entriesOf(text, file, section, from.source)) this.#takeEntry(entry, file, out);
    this.#stack.pop();
  }

  #entriesOf(text: string, file: string, section: string | undefined, from: ValueSource): IniEntry[] {
    const lexed = lexIni(text);
    for (const e of lexed.errors) this.problems.push({ code: 'ini-syntax', file, line: e.line, message: e.message, fix: e.fix });
    const first = lexed.inlineCommentLines[0];
    if (first !== undefined) {
      const n = lexed.inlineCommentLines.length;
      this.warnings.push({
        code: 'inline-comment', file, line: first,
        message: `text after ' #' was read as a comment${n > 1 ? ` (here and on ${n - 1} more line${n > 2 ? 's' : ''})` : ''}; uWSGI has no inline comments and would keep it in the value`,
        fix: 'move comments to their own line so uWSGI and Berth read this file alike',
      });
    }
    for (const e of lexed.entries) {
      if (e.section !== '') continue;
      this.problems.push({ code: 'outside-section', option: e.key, file, line: e.line, message: `'${e.key}' is outside any section, where uWSGI ignores it`, fix: 'move it below the [uwsgi] header' });
    }
    const hasBerthSection = DEFAULT_SECTIONS.some((s) => lexed.sections.includes(s));
    const supervisor = supervisorSectionProblems(lexed.headers, file, hasBerthSection);
    this.problems.push(...supervisor);
    // A file read for one named section (file.ini:section) contributes no programs, nor does a
    // supervisord.conf (refused above as a whole, with the command that converts it).
    if (section === undefined && hasBerthSection) {
      lexed.headers.forEach((h, i) => {
        if (!h.name.startsWith('program:')) return;
        const end = lexed.headers[i + 1]?.line ?? Infinity;
        this.programSections.push({ name: h.name, file, line: h.line, entries: lexed.entries.filter((e) => e.line > h.line && e.line < end) });
      });
    }
    if (section !== undefined) {
      if (!lexed.sections.includes(section)) {
        const has = lexed.sections.length > 0 ? `it has ${lexed.sections.map((s) => `[${s}]`).join(', ')}` : 'it has no sections';
        this.problems.push(problemAt(from, { code: 'ini-no-section', message: `section [${section}] not found in ${file}`, fix: `${has}; name one of those after the ':'` }));
      }
      return [...this.#warnRepeatedScalars(lexed.entries.filter((e) => e.section === section), file), ...upstreamEntries(lexed)];
    }
    if (!hasBerthSection && !supervisor.some((p) => p.code === 'supervisor-config')) {
      this.problems.push(problemAt(from, { code: 'ini-no-section', message: `${file} has no [uwsgi] or [berth] section`, fix: `put the options below a [uwsgi] header, or name the section: ${path.basename(file)}:<section>` }));
    }
    return [...this.#warnRepeatedScalars(DEFAULT_SECTIONS.flatMap((s) => lexed.entries.filter((e) => e.section === s)), file), ...upstreamEntries(lexed)];
  }

  /** A non-repeatable option set twice in one section is probably a leftover: the first line does nothing. */
  #warnRepeatedScalars(entries: IniEntry[], file: string): IniEntry[] {
    const seen = new Map<string, IniEntry>();
    for (const e of entries) {
      const opt = findOption(e.key);
      if (opt === undefined || opt.repeatable || opt.role !== undefined) continue;
      const id = `${e.section}\0${opt.name}`;
      const first = seen.get(id);
      if (first === undefined) {
        seen.set(id, e);
        continue;
      }
      this.warnings.push({ code: 'set-twice', option: e.key, file, line: e.line, message: `'${e.key}' is set again in [${e.section}] (first on line ${first.line}); this later value wins`, fix: 'remove one of the two lines' });
    }
    return entries;
  }

  #takeEntry(e: IniEntry, file: string, out: Setting[]): void {
    const source: ValueSource = { kind: 'ini', file, line: e.line };
    let value = e.value;
    if (value !== null) {
      const x = expandValue(value, {
        file,
        env: this.#deps.env,
        lookup: (name) => this.#placeholders.get(name) ?? this.#last.get(findOption(name)?.name ?? name),
        keepPlaceholders: findOption(e.key)?.name === 'log-format',
      });
      if (!x.ok) {
        this.problems.push({ code: 'bad-expansion', option: e.key, file, line: e.line, message: x.message, fix: x.fix });
        return;
      }
      if (x.unknown.length > 0) {
        this.warnings.push({ code: 'unknown-magic', option: e.key, file, line: e.line, message: `${x.unknown.join(', ')} kept as written: Berth expands only %d %p %s %n %c %% %(name) and $(NAME)`, fix: 'write %% for a literal %' });
      }
      value = x.value;
    }
    this.#take({ name: e.key, written: e.key, value, source }, path.dirname(file), out);
  }
}
