/**
 * uWSGI-flavoured ini lexer: text in, entries with line numbers out; no file access.
 *
 * Theory of operation. Lines are split on \n (a trailing \r is dropped, a leading BOM ignored).
 * A line is blank, a comment (first non-blank char '#' or ';'), a section header `[name]`,
 * `key = value` (split at the first '='; value may contain '='), or a bare `key` (value null,
 * which bool options read as true). uWSGI has no inline comments, so `chdir = /srv #dir` makes
 * uWSGI chdir to "/srv #dir"; Berth instead treats whitespace + '#' after a value as a comment
 * and reports the lines where it did so, so the caller can warn once per file.
 */

export interface IniEntry {
  /** Section name; '' for lines before the first header. */
  readonly section: string;
  readonly key: string;
  readonly value: string | null;
  readonly line: number;
}

export interface IniLexError { readonly line: number; readonly message: string; readonly fix: string }

export interface IniLexResult {
  readonly entries: readonly IniEntry[];
  /** Section names in the order they first appear. */
  readonly sections: readonly string[];
  /** Each section header as written, with its line (a name may appear more than once). */
  readonly headers: readonly { readonly name: string; readonly line: number }[];
  /** Lines where a ' #…' tail was dropped as a comment. */
  readonly inlineCommentLines: readonly number[];
  readonly errors: readonly IniLexError[];
}

/** Whitespace then '#': the start of an inline comment (a '#' inside a word, like COLOR=#fff, is kept). */
const INLINE_COMMENT = /\s#/;

function stripInlineComment(text: string): { text: string; stripped: boolean } {
  const m = INLINE_COMMENT.exec(text);
  if (!m) return { text, stripped: false };
  return { text: text.slice(0, m.index).trimEnd(), stripped: true };
}

export function lexIni(source: string): IniLexResult {
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const entries: IniEntry[] = [];
  const sections: string[] = [];
  const headers: { name: string; line: number }[] = [];
  const inlineCommentLines: number[] = [];
  const errors: IniLexError[] = [];
  let section = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = (lines[i] as string).replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    if (trimmed.startsWith('[')) {
      const m = /^\[([^\]]*)\]\s*(?:[#;].*)?$/.exec(trimmed);
      const name = m?.[1]?.trim();
      if (!m || name === undefined || name === '') {
        errors.push({ line: lineNo, message: `'${trimmed}' is not a section header`, fix: 'write a section header as [uwsgi]' });
        continue;
      }
      section = name;
      headers.push({ name, line: lineNo });
      if (!sections.includes(name)) sections.push(name);
      continue;
    }
    const eq = trimmed.indexOf('=');
    const keyPart = eq < 0 ? trimmed : trimmed.slice(0, eq);
    const key = stripInlineComment(keyPart).text.trim();
    if (key === '') {
      errors.push({ line: lineNo, message: `'${trimmed}' has no option name before '='`, fix: 'write key = value' });
      continue;
    }
    let value: string | null = null;
    let stripped = eq < 0 && stripInlineComment(keyPart).stripped;
    if (eq >= 0) {
      const v = stripInlineComment(trimmed.slice(eq + 1));
      value = v.text.trim();
      stripped = v.stripped;
    }
    if (stripped) inlineCommentLines.push(lineNo);
    entries.push({ section, key, value, line: lineNo });
  }
  return { entries, sections, headers, inlineCommentLines, errors };
}
