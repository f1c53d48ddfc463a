/**
 * The "Every uWSGI option" section of docs/uwsgi-compat.md, generated from the option table and
 * the stored uWSGI option list, grouped by decision and reason so a few hundred options read as
 * a few dozen choices (test/config/docs-compat.test.ts fails when the doc drifts). Regenerate with
 *   npm run build && node dist/src/config/docs-compat.js docs/uwsgi-compat.md
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { OptionSpec, OptionStatus } from './option-spec.js';
import { findOption } from './options.js';
import { UWSGI_OPTIONS, UWSGI_RELEASE } from './uwsgi-options/index.js';

export const BEGIN = '<!-- BEGIN generated from the option table: node dist/src/config/docs-compat.js docs/uwsgi-compat.md -->';
export const END = '<!-- END generated -->';

const HEADINGS: Readonly<Record<OptionStatus, string>> = {
  supported: 'Supported',
  accepted: 'Accepted: read, then ignored, because Berth already behaves this way',
  planned: 'Planned: refused for now, with what to do meanwhile',
  refused: 'Refused: Berth will not implement these; use the alternative',
};

const code = (names: readonly string[]): string => names.map((n) => `\`${n}\``).join(', ');

/** Every stored uWSGI name with the row that classifies it. */
function classified(): { name: string; plugin: string; row: OptionSpec }[] {
  return UWSGI_OPTIONS.map(([name, , , plugin]) => {
    const row = findOption(name);
    if (row === undefined) throw new Error(`uWSGI option '${name}' has no row in the option table`);
    return { name, plugin, row };
  });
}

export function uwsgiCompatSection(): string {
  const all = classified();
  const count = (s: OptionStatus): number => all.filter((o) => o.row.status === s).length;
  const lines = [
    BEGIN,
    '',
    '## Every uWSGI option',
    '',
    `uWSGI ${UWSGI_RELEASE} declares ${all.length} options in its core, its python and http plugins and the`,
    'other plugins Debian ships (scripts/uwsgi-options.mjs reads them from the source and checks them against',
    `\`uwsgi --help\`). Berth supports ${count('supported')}, accepts ${count('accepted')} as harmless, plans ${count('planned')} and refuses ${count('refused')};`,
    'a name outside this list is an unknown option. Names are as uWSGI spells them; `berth help NAME` shows one in full.',
    '',
  ];
  for (const status of ['supported', 'accepted', 'planned', 'refused'] as const) {
    const here = all.filter((o) => o.row.status === status);
    lines.push(`### ${HEADINGS[status]} (${here.length})`, '');
    if (status === 'supported') {
      lines.push(code(here.map((o) => o.name)), '');
      continue;
    }
    const byReason = new Map<string, string[]>();
    for (const o of here) {
      const reason = o.row.reason ?? o.row.help;
      byReason.set(reason, [...(byReason.get(reason) ?? []), o.name]);
    }
    lines.push('| uWSGI options | reason |', '|---|---|');
    for (const [reason, names] of byReason) lines.push(`| ${code(names)} | ${reason.replace(/\|/g, '\\|')} |`);
    lines.push('');
  }
  lines.push(END);
  return lines.join('\n');
}

/** The document with its generated section replaced (appended when the markers are missing). */
export function withCompatSection(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < 0) return `${doc.trimEnd()}\n\n${uwsgiCompatSection()}\n`;
  return doc.slice(0, start) + uwsgiCompatSection() + doc.slice(end + END.length);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? 'docs/uwsgi-compat.md';
  writeFileSync(file, withCompatSection(readFileSync(file, 'utf8')));
}
