/**
 * `berth --help`, generated from the option table (supported options only; the uWSGI options
 * Berth accepts or plans are listed in docs/configuration.md).
 */
import type { OptionSpec, OptionType } from '../config/option-spec.js';
import { OPTIONS } from '../config/options.js';

const METAVAR: Readonly<Record<OptionType, string>> = {
  string: 'NAME', path: 'PATH', int: 'N', bool: '', size: 'SIZE', seconds: 'SECONDS', address: 'ADDRESS', 'tls-address': 'ADDRESS,CERT,KEY', 'tls-keyval': 'addr=A,cert=C,key=K', 'key=value': 'KEY=VALUE',
};
const WIDTH = 100;
const LEFT = 34;

function flags(o: OptionSpec): string {
  const metavar = METAVAR[o.type];
  const all = [`--${o.name}`, ...o.aliases.map((a) => `--${a}`), ...(o.short !== undefined ? [`-${o.short}`] : [])];
  return `${all.join(', ')}${metavar !== '' ? ` ${metavar}` : ''}`;
}

/** Word-wrap `text` into lines of at most `width`, the first starting after `first`. */
function wrap(first: string, text: string): string[] {
  const out: string[] = [];
  let line = first.length >= LEFT ? (out.push(first), ''.padEnd(LEFT)) : first.padEnd(LEFT);
  for (const word of text.split(' ')) {
    if (line.trim() !== '' && line.length + word.length + 1 > WIDTH && line.length > LEFT) {
      out.push(line.trimEnd());
      line = ''.padEnd(LEFT);
    }
    line += (line.length > LEFT ? ' ' : '') + word;
  }
  out.push(line.trimEnd());
  return out;
}

export function helpText(): string {
  const lines = [
    'Usage:',
    '  berth [options]            run the WSGI app',
    '  berth check [options]      check the configuration; print it resolved, or every problem',
    '  berth --stop PIDFILE       stop the Berth that wrote this pidfile (SIGTERM; waits until it exits)',
    '  berth --reload PIDFILE     reload it (SIGHUP); the result is in its log',
    '  berth --status PIDFILE     running? pid and uptime; exit 0 running, 1 stale pidfile, 3 not running',
    '  berth top ADDRESS|PIDFILE  live view of the workers from a stats address (Berth or uWSGI); q quits',
    '  berth systemd-unit [options]  print a systemd unit running this config (--watchdog SEC)',
    '  berth --help               this text',
    '  berth help TOPIC           one option in full (type, default, status, uWSGI name), or a group',
    '  berth --python-version     the Python version the workers would run (with --home/--python/--ini)',
    '  berth --version            print the version',
    '',
    'Options use uWSGI\'s names. Give them on the command line (--http :8000, -p 4), in an ini file',
    '(berth app.ini, or --ini app.ini[:section]; [uwsgi] and [berth] sections), or as environment',
    'variables (BERTH_PROCESSES=4). Later options override earlier ones and the ini files they follow.',
  ];
  const supported = OPTIONS.filter((o) => o.status === 'supported');
  for (const group of new Set(supported.map((o) => o.group))) {
    lines.push('', `${group}:`);
    for (const o of supported.filter((x) => x.group === group)) {
      const extra = [o.default !== undefined ? `default ${o.default}` : '', o.repeatable ? 'repeatable' : ''].filter((s) => s !== '').join('; ');
      lines.push(...wrap(`  ${flags(o)}`, `${o.help}${extra !== '' ? ` (${extra})` : ''}`));
    }
  }
  lines.push(
    '',
    'Every other uWSGI option is accepted as harmless or refused with what to do instead: berth help NAME',
    'says which; docs/uwsgi-compat.md lists them all. On the command line an unambiguous beginning of a',
    'uWSGI option name works, as with uWSGI (--uwsgi is --uwsgi-socket).',
  );
  return lines.join('\n') + '\n';
}
