/** Refuses the supervisord sections Berth does not read ([fcgi-program:x], [eventlistener:x], [group:x], a whole supervisord.conf); [program:x] is read by program-sections.ts. */
import path from 'node:path';
import type { Problem } from '../problem.js';

/** supervisord's section kinds Berth does not run, with what to do instead. */
const REFUSED_KINDS: readonly (readonly [prefix: string, fix: string])[] = [
  ['fcgi-program:', 'Berth serves WSGI, not FastCGI: run the app as Berth\'s web workers, or keep supervisord for this program'],
  ['eventlistener:', 'Berth has no supervisor events: watch the programs with berth ctl status --json or the stats document (berth.programs)'],
  ['group:', 'name the programs one by one in berth ctl (or use all); remove the [group:…] section'],
];
const DAEMON_SECTIONS = ['supervisord', 'supervisorctl'];

/**
 * One problem per refused section, naming it and its line; a file that is a whole
 * supervisord.conf (a [supervisord] section, none of Berth's) is said to be one, with the
 * command that converts it.
 */
export function supervisorSectionProblems(
  headers: readonly { readonly name: string; readonly line: number }[],
  file: string,
  hasBerthSection: boolean,
): Problem[] {
  const problems: Problem[] = [];
  const base = path.basename(file);
  const daemon = headers.find((h) => DAEMON_SECTIONS.includes(h.name));
  if (daemon !== undefined && !hasBerthSection) {
    problems.push({
      code: 'supervisor-config', file, line: daemon.line,
      message: `${file} is a supervisord configuration ([${daemon.name}] on line ${daemon.line}), not a uWSGI ini: it has no [uwsgi] section`,
      fix: `convert it with berth migrate supervisor ${base} > site.ini (Berth runs [program:…] sections itself, docs/supervision.md), or run it with supervisord -c ${base}`,
    });
  }
  for (const h of headers) {
    const kind = REFUSED_KINDS.find(([prefix]) => h.name.startsWith(prefix));
    if (kind === undefined) continue;
    problems.push({
      code: 'supervisor-section', file, line: h.line,
      message: `section [${h.name}] is a supervisord section Berth does not run`,
      fix: kind[1],
    });
  }
  return problems;
}
