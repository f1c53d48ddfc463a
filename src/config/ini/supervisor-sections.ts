/** Refuses supervisord sections ([program:x], [supervisord]…) in an ini given to Berth, which would otherwise be ignored silently. */
import path from 'node:path';
import type { Problem } from '../problem.js';

/** supervisord's section kinds that say "run and watch processes" (supervisord.conf(5)). */
const PROGRAM_KINDS = ['program:', 'fcgi-program:', 'eventlistener:', 'group:'];
const DAEMON_SECTIONS = ['supervisord', 'supervisorctl'];

/**
 * One problem per program-like section, naming it and its line; a file that is a whole
 * supervisord.conf (a [supervisord] section, none of Berth's) is said to be one. Process
 * supervision in Berth is planned, so until it lands the way that works is the reverse:
 * supervisord runs Berth.
 */
export function supervisorSectionProblems(
  headers: readonly { readonly name: string; readonly line: number }[],
  file: string,
  hasBerthSection: boolean,
): Problem[] {
  const problems: Problem[] = [];
  const base = path.basename(file);
  const meanwhile = `Berth does not supervise programs yet (planned); meanwhile run Berth itself under supervisord: keep the [program:…] section in supervisord.conf with command = berth --ini /path/to/site.ini and give Berth an ini with only the [uwsgi] options`;
  const daemon = headers.find((h) => DAEMON_SECTIONS.includes(h.name));
  if (daemon !== undefined && !hasBerthSection) {
    problems.push({
      code: 'supervisor-config', file, line: daemon.line,
      message: `${file} is a supervisord configuration ([${daemon.name}] on line ${daemon.line}), not a uWSGI ini: it has no [uwsgi] section`,
      fix: `convert it with berth migrate supervisor ${base} > site.ini, then run berth --ini site.ini; or run it with supervisord -c ${base} and give Berth the ini named by its program's command (--ini …)`,
    });
  }
  for (const h of headers) {
    if (!PROGRAM_KINDS.some((k) => h.name.startsWith(k))) continue;
    problems.push({
      code: 'supervisor-section', file, line: h.line,
      message: `section [${h.name}] is a supervisord program, which Berth would ignore`,
      fix: meanwhile,
    });
  }
  return problems;
}
