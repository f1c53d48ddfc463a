/**
 * Command-line reader. uWSGI parses its argv with getopt_long, so the same forms work here:
 * `--http :8000`, `--http=:8000`, `-p 4`, `-p4`, `--master` (bool flags take no value; use
 * `--master=false` to turn one off), `-ML` (clustered bool flags), `--ini f[:section]`, and a
 * bare `file.ini` like `uwsgi file.ini`, and unambiguous prefixes of uWSGI's long names
 * (`--uwsgi` → `--uwsgi-socket`, as getopt_long reads them). Settings come out in argv order; because `--ini`
 * entries are expanded in place later, an option overrides the ini files it follows.
 */
import { findOption, findShort, matchPrefix, suggestOption } from './options.js';
import type { OptionSpec } from './option-spec.js';
import type { Problem } from './problem.js';
import type { ValueSource } from './schema.js';
import type { Setting } from './setting.js';

const ARGV: ValueSource = { kind: 'argv' };
const WHERE = 'command line';

/** getopt never gives a bool (no_argument) or optional_argument option the next word. */
function takesNoNextArg(opt: OptionSpec | undefined): boolean {
  return opt !== undefined && (opt.type === 'bool' || opt.optionalValue === true);
}

/** A word that is itself an option, so it cannot be the previous option's value. */
function looksLikeFlag(word: string | undefined): boolean {
  return word !== undefined && word.length > 1 && word.startsWith('-') && !/^-\d/.test(word);
}

export interface ArgvResult { readonly settings: Setting[]; readonly problems: Problem[] }

export function readArgv(argv: readonly string[]): ArgvResult {
  const settings: Setting[] = [];
  const problems: Problem[] = [];
  const missing = (written: string, opt: OptionSpec): Problem => ({
    code: 'missing-value', option: written, where: WHERE,
    message: `option '${written}' needs a value`, fix: `write ${written} <${opt.type}> or ${written}=<${opt.type}>`,
  });
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (!onlyPositional && word === '--') {
      onlyPositional = true;
    } else if (!onlyPositional && word.startsWith('--') && word.length > 2) {
      const body = word.slice(2);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const written = `--${name}`;
      const match = matchPrefix(name);
      if (match.kind === 'ambiguous') problems.push(ambiguous(written, match.candidates));
      const full = match.kind === 'exact' || match.kind === 'prefix' ? match.name : name;
      const opt = findOption(full);
      // An unknown flag is probably a typo of the suggested one, so read its value the same way.
      const like = opt ?? findOption(suggestOption(name) ?? '');
      let value: string | null = null;
      if (eq >= 0) value = body.slice(eq + 1);
      else if (!takesNoNextArg(like) && i + 1 < argv.length && !looksLikeFlag(argv[i + 1])) value = argv[++i] as string;
      else if (opt !== undefined && !takesNoNextArg(opt)) { problems.push(missing(written, opt)); continue; }
      if (match.kind !== 'ambiguous') settings.push({ name: full, written, value, source: ARGV });
    } else if (!onlyPositional && looksLikeFlag(word)) {
      i = readShort(argv, i, settings, problems, missing);
    } else {
      readPositional(word, settings, problems, settings.at(-1));
    }
  }
  return { settings, problems };
}

/** getopt_long's answer to a prefix of several long options: name them all. */
function ambiguous(written: string, candidates: readonly string[]): Problem {
  const shown = candidates.slice(0, 8).map((c) => `--${c}`).join(', ') + (candidates.length > 8 ? `, … (${candidates.length} in all)` : '');
  return {
    code: 'ambiguous-option', option: written, where: WHERE,
    message: `option '${written}' is ambiguous: it is the beginning of ${shown}`,
    fix: `write the option in full, for example --${candidates[0] as string}`,
  };
}

/** `-p 4`, `-p4`, `-p=4`, `-M`, `-ML`; returns the index of the last word consumed. */
function readShort(argv: readonly string[], i: number, settings: Setting[], problems: Problem[], missing: (w: string, o: OptionSpec) => Problem): number {
  const word = argv[i] as string;
  for (let k = 1; k < word.length; k++) {
    const letter = word[k] as string;
    const written = `-${letter}`;
    const opt = findShort(letter);
    if (opt === undefined) {
      problems.push({ code: 'unknown-option', option: written, where: WHERE, message: `unknown option '${written}'`, fix: 'run berth --help for the options Berth reads' });
      return i;
    }
    if (takesNoNextArg(opt)) {
      settings.push({ name: opt.name, written, value: null, source: ARGV });
      continue;
    }
    const rest = word.slice(k + 1).replace(/^=/, '');
    if (rest !== '') {
      settings.push({ name: opt.name, written, value: rest, source: ARGV });
      return i;
    }
    if (i + 1 < argv.length && !looksLikeFlag(argv[i + 1])) {
      settings.push({ name: opt.name, written, value: argv[i + 1] as string, source: ARGV });
      return i + 1;
    }
    problems.push(missing(written, opt));
    return i;
  }
  return i;
}

/** `berth app.ini` (or `app.ini:section`) reads the file, like `uwsgi app.ini`. */
function readPositional(word: string, settings: Setting[], problems: Problem[], previous: Setting | undefined): void {
  const flag = previous?.value === null && previous.source.kind === 'argv' ? findOption(previous.name) : undefined;
  if (flag?.type === 'bool' && previous !== undefined && /^(true|false|yes|no|on|off|[01])$/i.test(word)) {
    problems.push({ code: 'unexpected-argument', option: word, where: WHERE, message: `unexpected argument '${word}' after '${previous.written}'`, fix: `bool flags take no separate value: write ${previous.written.startsWith('--') ? previous.written : `--${flag.name}`}=${word}` });
  } else if (/\.ini(:[^/]*)?$/.test(word)) {
    settings.push({ name: 'ini', written: word, value: word, source: ARGV });
  } else if (/\.(ya?ml|json|xml|js)(:[^/]*)?$/.test(word)) {
    problems.push({ code: 'unsupported-config-format', option: word, where: WHERE, message: `'${word}' is not an ini file`, fix: 'Berth reads uWSGI ini files only; convert it to an ini file with a [uwsgi] section' });
  } else {
    problems.push({ code: 'unexpected-argument', option: word, where: WHERE, message: `unexpected argument '${word}'`, fix: 'options start with -- (for example --http :8000); a bare argument must be an .ini file' });
  }
}
