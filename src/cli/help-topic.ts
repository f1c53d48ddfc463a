/**
 * `berth help TOPIC`: the manual page of one option (type, default, status and reason, every
 * spelling, what uWSGI calls it), or the options of a group or status, generated from the table.
 */
import type { OptionGroup, OptionSpec, OptionStatus } from '../config/option-spec.js';
import { OPTIONS, findOption, findShort, matchPrefix, suggestOption } from '../config/options.js';
import { uwsgiOption } from '../config/options-uwsgi.js';
import { envNameFor } from '../config/setting.js';

const STATUS_MEANING: Readonly<Record<OptionStatus, string>> = {
  supported: 'supported',
  accepted: 'accepted and ignored (Berth already behaves this way)',
  planned: 'refused for now (planned; Berth will not start with it)',
  refused: 'refused (Berth will not implement it; Berth will not start with it)',
};

const ARGUMENT: Readonly<Record<string, string>> = { value: 'takes a value', flag: 'a flag (no value)', optional: 'an optional value' };

function metavar(o: OptionSpec): string {
  return o.type === 'bool' ? '' : ` <${o.type}>`;
}

function spellings(o: OptionSpec): string {
  return [`--${o.name}`, ...o.aliases.map((a) => `--${a}`), ...(o.short !== undefined ? [`-${o.short}`] : [])].join(', ');
}

/** What uWSGI 2.0 calls this option, for readers moving a deployment over. */
function uwsgiNote(o: OptionSpec): string {
  if (o.berthOnly === true) return 'not a uWSGI option (Berth only)';
  const known = [o.name, ...o.aliases].map(uwsgiOption).filter((u) => u !== undefined);
  if (known.length === 0) return 'uWSGI spells it the same way';
  const first = known[0] as NonNullable<(typeof known)[number]>;
  const where = first[3] === 'core' ? 'a core option' : `an option of the ${first[3]} plugin`;
  return `${where} (${known.map((u) => u[0]).join(', ')}); it ${ARGUMENT[first[1]] ?? 'takes a value'} there`;
}

export function optionManual(o: OptionSpec): string {
  const lines = [
    `${spellings(o)}${metavar(o)}`,
    '',
    `  status:   ${STATUS_MEANING[o.status]}`,
    `  type:     ${o.type}${o.repeatable ? ', repeatable (every value counts, in order)' : ''}`,
    `  default:  ${o.default ?? '(none)'}`,
    `  group:    ${o.group}`,
    `  ini:      ${o.name} =${o.type === 'bool' ? ' true' : metavar(o)}`,
    `  env:      ${envNameFor(o.name)}=${o.type === 'bool' ? 'true' : `<${o.type}>`}`,
    `  uWSGI:    ${uwsgiNote(o)}`,
    '',
    ...wrap(o.status === 'supported' ? o.help : `${o.status === 'accepted' ? 'Why it is harmless' : 'What to do instead'}: ${o.reason ?? o.help}`),
  ];
  return lines.join('\n') + '\n';
}

function wrap(text: string): string[] {
  const out: string[] = [];
  let line = ' ';
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > 98 && line.trim() !== '') { out.push(line); line = ' '; }
    line += ` ${word}`;
  }
  out.push(line);
  return out;
}

function listing(title: string, options: readonly OptionSpec[]): string {
  const supported = options.filter((o) => o.status === 'supported');
  const others = options.filter((o) => o.status !== 'supported');
  const lines = [`${title}: ${options.length} option${options.length === 1 ? '' : 's'}`, ''];
  for (const o of supported) lines.push(`  --${o.name}${metavar(o)}`.padEnd(40) + (o.default !== undefined ? `default ${o.default}` : ''));
  for (const status of ['accepted', 'planned', 'refused'] as const) {
    const names = others.filter((o) => o.status === status).map((o) => o.name);
    if (names.length > 0) lines.push('', `  ${STATUS_MEANING[status]}:`, ...wrap(names.join(' ')).map((l) => ` ${l}`));
  }
  lines.push('', 'berth help OPTION shows one option in full.');
  return lines.join('\n') + '\n';
}

const key = (s: string): string => s.toLowerCase().replace(/[\s_-]+/g, ' ').trim();

/** The help text for a topic, or undefined with a did-you-mean line for an unknown one. */
export function helpTopic(topic: string): { readonly text: string } | { readonly unknown: string } {
  const bare = topic.replace(/^--?/, '');
  const option = (topic.length === 2 && topic.startsWith('-') ? findShort(bare) : undefined) ?? findOption(bare);
  if (option !== undefined) return { text: optionManual(option) };
  const groups = [...new Set(OPTIONS.map((o) => o.group))] as OptionGroup[];
  const group = groups.find((g) => key(g) === key(bare));
  if (group !== undefined) return { text: listing(group, OPTIONS.filter((o) => o.group === group)) };
  const status = (['supported', 'accepted', 'planned', 'refused'] as const).find((s) => s === key(bare));
  if (status !== undefined) return { text: listing(`${status[0]?.toUpperCase()}${status.slice(1)}`, OPTIONS.filter((o) => o.status === status)) };
  const prefix = matchPrefix(bare);
  if (prefix.kind === 'prefix') return { text: optionManual(findOption(prefix.name) as OptionSpec) };
  const near = suggestOption(bare) ?? groups.find((g) => key(g).startsWith(key(bare)));
  const topics = `an option name (berth help processes), a group (${groups.map((g) => `'${g}'`).join(', ')}) or a status (supported, accepted, planned, refused)`;
  if (prefix.kind === 'ambiguous') return { unknown: `'${topic}' is the beginning of several options: ${prefix.candidates.slice(0, 8).join(', ')}${prefix.candidates.length > 8 ? ', …' : ''}` };
  return { unknown: `no help topic '${topic}'${near !== undefined ? ` — did you mean '${near}'?` : '.'} A topic is ${topics}.` };
}
