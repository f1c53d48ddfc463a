/**
 * Expansion of the magic variables uWSGI allows in ini values, in one left-to-right pass
 * (results are not expanded again):
 *   %d dir of the ini file, with trailing slash   %p absolute path of the file
 *   %n file name without extension                %s file name
 *   %c name of the file's directory                %% a literal '%'
 *   %(name) a placeholder or an option set earlier  $(NAME) an environment variable
 *   (in log-format values %(name) is a request variable and is kept as written)
 * Other %x are kept as written, like uWSGI, but reported so the caller can warn.
 */
import path from 'node:path';

export type ExpandResult =
  | { readonly ok: true; readonly value: string; readonly unknown: readonly string[] }
  | { readonly ok: false; readonly message: string; readonly fix: string };

export interface ExpandContext {
  /** Absolute path of the ini file the value was read from. */
  readonly file: string;
  /** Value of a placeholder or earlier option, or undefined. */
  readonly lookup: (name: string) => string | undefined;
  /** Keep every %(name) as written: log-format's %(status), %(uri)… are request variables, not placeholders. */
  readonly keepPlaceholders?: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

function fileVar(letter: string, file: string): string | undefined {
  const base = path.basename(file);
  switch (letter) {
    case 'd': return path.dirname(file).replace(/\/?$/, '/');
    case 'p': return file;
    case 's': return base;
    case 'n': return base.replace(/\.[^.]*$/, '');
    case 'c': return path.basename(path.dirname(file));
    case '%': return '%';
    default: return undefined;
  }
}

export function expandValue(raw: string, ctx: ExpandContext): ExpandResult {
  let out = '';
  const unknown: string[] = [];
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i] as string;
    const next = raw[i + 1];
    if ((ch === '%' || ch === '$') && next === '(') {
      const close = raw.indexOf(')', i + 2);
      if (close < 0) return { ok: false, message: `'${raw.slice(i)}' is missing its closing ')'`, fix: `write ${ch}(name)` };
      const name = raw.slice(i + 2, close).trim();
      if (ch === '%' && ctx.keepPlaceholders === true) {
        out += raw.slice(i, close + 1);
        i = close + 1;
        continue;
      }
      if (ch === '%') {
        const v = ctx.lookup(name);
        if (v === undefined) {
          return { ok: false, message: `placeholder %(${name}) is not defined`, fix: `define it earlier with set-placeholder = ${name}=<value>, or set the option '${name}' before this line` };
        }
        out += v;
      } else {
        const v = ctx.env[name];
        if (v === undefined) return { ok: false, message: `environment variable $(${name}) is not set`, fix: `export ${name}=… before starting Berth, or write the value directly` };
        out += v;
      }
      i = close + 1;
      continue;
    }
    if (ch === '%' && next !== undefined) {
      const v = fileVar(next, ctx.file);
      if (v === undefined) {
        unknown.push(`%${next}`);
        out += ch + next;
      } else {
        out += v;
      }
      i += 2;
      continue;
    }
    out += ch;
    i += 1;
  }
  return { ok: true, value: out, unknown };
}
