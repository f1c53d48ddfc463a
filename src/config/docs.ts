/**
 * docs/configuration.md, generated from the option table so the two cannot drift apart
 * (test/config/docs.test.ts fails when they do). Regenerate with
 *   npm run build && node dist/src/config/docs.js > docs/configuration.md
 */
import { pathToFileURL } from 'node:url';
import type { OptionSpec, OptionStatus } from './option-spec.js';
import { OPTIONS } from './options.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

function names(o: OptionSpec): string {
  return [...o.aliases.map((a) => `\`${a}\``), ...(o.short !== undefined ? [`\`-${o.short}\``] : [])].join(', ') || '—';
}

function table(status: OptionStatus, last: string): string[] {
  const rows = OPTIONS.filter((o) => o.status === status).sort((a, b) => a.name.localeCompare(b.name));
  return [
    `| Option | Aliases | Type | ${last} |`,
    '|---|---|---|---|',
    ...rows.map((o) => `| \`${o.name}\` | ${names(o)} | ${o.type}${o.repeatable ? ', repeatable' : ''} | ${cell(o.reason ?? o.help)} |`),
  ];
}

export function configurationMarkdown(): string {
  const lines: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/options.ts: npm run build && node dist/src/config/docs.js > docs/configuration.md -->',
    '',
    'Berth reads uWSGI\'s option names and ini files. Every option can be given three ways:',
    '',
    '- on the command line: `--http :8000`, `--http=:8000`, `-p 4`, `--master` (bool flags take no value; `--master=false` turns one off);',
    '- in an ini file: `berth app.ini`, `--ini app.ini`, `--ini app.ini:section` (several allowed);',
    '- as an environment variable: `BERTH_` + the name in upper case with `-` → `_` (`BERTH_PROCESSES=4`, `BERTH_BUFFER_SIZE=64k`).',
    '',
    'Precedence, lowest first: defaults, environment variables, then the command line read left to right with each',
    '`--ini` file read where it appears — so an option overrides the ini files before it. For options marked',
    '*repeatable* every value counts (in order); for the others the last one wins. A layer that sets a repeatable',
    'option replaces what the environment gave for it.',
    '',
    'Every uWSGI 2.0 option has a row below: supported, accepted (harmless, ignored), planned or refused, with the reason.',
    'Names uWSGI does not know either are errors with a did-you-mean for close typos (uWSGI ignores them silently:',
    '`proces = 4` runs one worker). On the command line an unambiguous beginning of a uWSGI option name works, as',
    'with uWSGI\'s getopt (`--uwsgi` is `--uwsgi-socket`); ini keys and `BERTH_` variables must be written in full.',
    'All problems are reported at once, each with the option, the file and line, and a fix; `berth check` prints',
    'them, or the resolved configuration with where each value came from.',
    '',
    '## ini files',
    '',
    '- Sections: `[uwsgi]` is read, then `[berth]` (whose values win); `--ini file:name` reads `[name]` only.',
    '- `key = value` or `key=value`; lines starting with `#` or `;` are comments. A repeated key appends for',
    '  repeatable options and replaces otherwise. A bare `key` (no `=`) means true for bool options.',
    '- Booleans: true/false, 1/0, yes/no, on/off. Sizes: `65536`, `64k`, `1m`. Seconds: `60`, `1.5`, `500ms`, `2m`.',
    '- uWSGI has no inline comments (`chdir = /srv/site #dir` makes uWSGI use "/srv/site #dir"). Berth reads',
    '  whitespace + `#` after a value as a comment and warns once per file, so the difference is visible.',
    '- `ini = other.ini` includes another file, relative to the including file; include cycles are errors.',
    '- Expansion in values: `%d` directory of the ini file (with trailing `/`), `%p` its absolute path, `%s` its',
    '  name, `%n` its name without extension, `%c` the name of its directory, `%%` a literal `%`, `%(name)` a',
    '  placeholder (`set-placeholder = name=value`) or an option set earlier, `$(NAME)` an environment variable.',
    '  Undefined ones are errors with file and line.',
    '- Relative paths are resolved from the current directory, as in uWSGI (use `%d` for paths relative to the',
    '  file); `wsgi-file` and `pythonpath` are resolved from `chdir` when it is set, as Python will see them.',
    '',
    '## Supported options',
    '',
  ];
  const supported = OPTIONS.filter((o) => o.status === 'supported');
  const groups = [...new Set(supported.map((o) => o.group))];
  for (const group of groups) {
    lines.push(`### ${group}`, '', '| Option | Aliases | Type | Default | Description |', '|---|---|---|---|---|');
    for (const o of supported.filter((x) => x.group === group)) {
      const type = `${o.type}${o.repeatable ? ', repeatable' : ''}`;
      const help = `${o.berthOnly === true ? '*(Berth only)* ' : ''}${o.help}`;
      lines.push(`| \`${o.name}\` | ${names(o)} | ${type} | ${o.default !== undefined ? `\`${o.default}\`` : '—'} | ${cell(help)} |`);
    }
    lines.push('');
  }
  lines.push(
    '## Accepted uWSGI options',
    '',
    'These uWSGI options are read and checked, then have no effect, because Berth already behaves that way.',
    '',
    ...table('accepted', 'Why it is harmless'),
    '',
    '## Planned uWSGI options',
    '',
    'Berth does not implement these yet and refuses to start with them (`option \'socket\' is not supported yet — …`)',
    'rather than silently running without them. The last column says what to do meanwhile.',
    '',
    ...table('planned', 'Meanwhile'),
    '',
    '## Refused uWSGI options',
    '',
    'Berth will not implement these: another tool does the job, or Berth\'s design makes them moot. It refuses to',
    'start with them (`option \'emperor\' is a uWSGI option Berth does not support — …`); the last column names the',
    'alternative. docs/uwsgi-compat.md lists every uWSGI option grouped by these reasons.',
    '',
    ...table('refused', 'Instead'),
    '',
  );
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(configurationMarkdown());
}
