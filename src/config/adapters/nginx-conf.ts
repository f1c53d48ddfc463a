/**
 * Reads nginx's configuration syntax (pure, no files): directives `name arg …;`, blocks
 * `name arg … { … }`, `#` comments, single/double quotes with backslash escapes. Whitespace
 * includes U+3000 (the full-width space), which configs copied from CJK pages carry; nginx
 * itself would refuse it, so the caller is told when it was seen.
 */
import { BerthError } from '../../errors/berth-error.js';

export interface NginxDirective {
  readonly name: string;
  readonly args: readonly string[];
  readonly line: number;
  /** The directives inside `{ … }`, or null for a simple `name args;` directive. */
  readonly block: readonly NginxDirective[] | null;
}

export interface NginxConf {
  readonly directives: readonly NginxDirective[];
  /** True when a U+3000 full-width space was read as whitespace. */
  readonly fullWidthSpaces: boolean;
}

interface Token { readonly text: string; readonly line: number; readonly quoted: boolean }

const FULL_WIDTH_SPACE = '\u3000';

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\f' || ch === '\v' || ch === FULL_WIDTH_SPACE;
}

function syntaxError(source: string, line: number, message: string, fix: string): BerthError {
  return new BerthError('BERTH_CONFIG_INVALID', `${source} line ${line}: ${message}. Fix: ${fix}`);
}

function tokenize(text: string, source: string): { tokens: Token[]; fullWidthSpaces: boolean } {
  const tokens: Token[] = [];
  let fullWidthSpaces = false;
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '\n') { line += 1; i += 1; continue; }
    if (isSpace(ch)) { if (ch === FULL_WIDTH_SPACE) fullWidthSpaces = true; i += 1; continue; }
    if (ch === '#') { while (i < text.length && text[i] !== '\n') i += 1; continue; }
    if (ch === ';' || ch === '{' || ch === '}') { tokens.push({ text: ch, line, quoted: false }); i += 1; continue; }
    if (ch === '"' || ch === "'") {
      const start = line;
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== ch) {
        if (text[i] === '\\' && i + 1 < text.length) i += 1;
        if (text[i] === '\n') line += 1;
        value += text[i] as string;
        i += 1;
      }
      if (i >= text.length) throw syntaxError(source, start, `a ${ch} quote is never closed`, `close the quoted string opened on line ${start}`);
      i += 1;
      tokens.push({ text: value, line: start, quoted: true });
      continue;
    }
    let word = '';
    while (i < text.length) {
      const c = text[i] as string;
      if (isSpace(c) || c === ';' || c === '{' || c === '}') break;
      if (c === '\\' && i + 1 < text.length) { word += text[i + 1] as string; i += 2; continue; }
      word += c;
      i += 1;
    }
    tokens.push({ text: word, line, quoted: false });
  }
  return { tokens, fullWidthSpaces };
}

/** Parses nginx configuration text; `source` names it in errors (a file name). */
export function parseNginxConf(text: string, source: string): NginxConf {
  const { tokens, fullWidthSpaces } = tokenize(text, source);
  let pos = 0;
  const parseList = (opener: Token | null): NginxDirective[] => {
    const out: NginxDirective[] = [];
    for (;;) {
      const head = tokens[pos];
      if (head === undefined) {
        if (opener !== null) throw syntaxError(source, opener.line, "a '{' is never closed", `add the missing '}' for the block opened on line ${opener.line}`);
        return out;
      }
      if (!head.quoted && head.text === '}') {
        if (opener === null) throw syntaxError(source, head.line, "unexpected '}'", "remove it, or add the '{' it closes");
        pos += 1;
        return out;
      }
      if (!head.quoted && (head.text === ';' || head.text === '{')) throw syntaxError(source, head.line, `unexpected '${head.text}' where a directive name was expected`, 'write a directive name first (name args;)');
      pos += 1;
      const args: string[] = [];
      for (;;) {
        const t = tokens[pos];
        if (t === undefined) throw syntaxError(source, head.line, `directive '${head.text}' has no ending ';' or '{'`, `end line ${head.line} with ';'`);
        pos += 1;
        if (!t.quoted && t.text === ';') { out.push({ name: head.text, args, line: head.line, block: null }); break; }
        if (!t.quoted && t.text === '{') { out.push({ name: head.text, args, line: head.line, block: parseList(t) }); break; }
        if (!t.quoted && t.text === '}') throw syntaxError(source, head.line, `directive '${head.text}' has no ending ';' before the '}' on line ${t.line}`, `end line ${head.line} with ';'`);
        args.push(t.text);
      }
    }
  };
  return { directives: parseList(null), fullWidthSpaces };
}
