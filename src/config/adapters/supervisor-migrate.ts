/**
 * `berth migrate supervisor FILE`: a supervisord.conf → a Berth ini. The program whose command
 * runs uWSGI (or gunicorn) becomes the [uwsgi] section, Berth's own web workers; every other
 * program stays a [program:x] section with supervisor's keys; supervisord-only sections are
 * dropped. Every setting whose meaning changes is said in a comment beside the result.
 */
import path from 'node:path';
import { readSupervisorConfig, type SupervisorSection } from './supervisor-ini.js';
import { webCommand } from './supervisor-command.js';

export interface Migration { readonly text: string; readonly warnings: readonly string[] }

const DROPPED: readonly (readonly [RegExp, string])[] = [
  [/^unix_http_server$/, "supervisorctl's socket; Berth's control socket and `berth ctl` replace it"],
  [/^inet_http_server$/, "supervisor's HTTP control; `berth ctl` (local socket) replaces it, and the stats server (stats = …) shows state"],
  [/^supervisorctl$/, 'use `berth ctl --ini THIS_FILE status|start|stop|restart NAME`'],
  [/^rpcinterface:/, 'supervisor\'s XML-RPC interface; `berth ctl --json` is the scriptable interface'],
  [/^supervisord$/, 'the daemon itself: Berth is the supervisor now; run `berth --ini THIS_FILE` under systemd (berth systemd-unit) or your init'],
  [/^include$/, 'its files were read and converted in place'],
  [/^(?:eventlistener|fcgi-program):/, 'not converted: Berth has no event listeners or FastCGI programs'],
];

/** The web program's supervisor keys, and what each becomes in Berth. */
function webNotes(s: SupervisorSection, lines: string[], note: (t: string) => void): void {
  const get = (k: string): string | undefined => s.entries.get(k)?.value;
  const stopsignal = (get('stopsignal') ?? 'TERM').toUpperCase().replace(/^SIG/, '');
  if (stopsignal === 'TERM') note('stopsignal TERM (supervisor\'s default): uWSGI 2.0 reloads on TERM; Berth stops gracefully on TERM (finishes in-flight requests)');
  else note(`stopsignal ${stopsignal}: Berth stops gracefully on TERM, INT and QUIT; send TERM`);
  const wait = get('stopwaitsecs');
  if (wait !== undefined) note(`stopwaitsecs=${wait}: supervisor's SIGKILL deadline; Berth's graceful stop is bounded by reload-mercy (default 30 s)${wait === '0' ? ', so 0 (kill at once) no longer applies' : ''}`);
  for (const k of ['autostart', 'autorestart', 'startsecs', 'startretries']) {
    const v = get(k);
    if (v !== undefined) note(`${k}=${v}: Berth restarts crashed workers itself (with backoff); the master is started and restarted by what runs berth (systemd: berth systemd-unit)`);
  }
  const user = get('user');
  if (user !== undefined) { lines.push(`uid = ${user}`); note(`user=${user} → uid (Berth drops privileges after binding)`); }
  const env = get('environment');
  if (env !== undefined) {
    for (const m of env.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"]*)"|'(?:[^']*)'|[^,]*)/g)) lines.push(`env = ${m[1]}=${(m[2] as string).replace(/^["']|["']$/g, '')}`);
  }
  const out = get('stdout_logfile');
  if (out !== undefined && out !== 'AUTO' && out.toUpperCase() !== 'NONE') { lines.push(`logto = ${out}`); note(`stdout_logfile → logto (Berth's log: its own lines and the request log)`); }
  for (const k of ['numprocs', 'priority', 'stopasgroup', 'killasgroup', 'redirect_stderr', 'stderr_logfile', 'umask']) {
    const v = get(k);
    if (v !== undefined) note(`${k}=${v}: not needed (Berth's processes option sets the workers; they always stop with the master)`);
  }
}

function programSection(s: SupervisorSection, out: string[]): void {
  out.push(`[${s.name}]`);
  for (const [k, e] of s.entries) out.push(`${k} = ${e.value.replace(/\n/g, '\n  ')}`);
  const has = (k: string): boolean => s.entries.has(k);
  if (!has('stopasgroup') && !has('killasgroup')) out.push('; changes meaning: stopasgroup/killasgroup default to true in Berth (supervisor: false), so grandchildren stop with the program');
  // killasgroup alone: supervisor's stopasgroup is false then; Berth's default (true) would change it.
  else if (!has('stopasgroup')) out.push("stopasgroup = false", "; supervisor's default, written out: Berth's is true (and refuses stopasgroup = true with killasgroup = false)");
  if ((s.entries.get('stopsignal')?.value ?? 'TERM').toUpperCase().replace(/^SIG/, '') === 'TERM') out.push('; stopsignal TERM: as in supervisor');
  out.push('');
}

export function migrateSupervisor(file: string, env: Readonly<Record<string, string | undefined>>): Migration {
  const { sections, unknownExpansions } = readSupervisorConfig(file, env);
  const warnings: string[] = unknownExpansions.map((n) => `%(${n})s is not a variable supervisor defines here; left as written`);
  const head = [`; Berth configuration converted from ${path.resolve(file)} by berth migrate supervisor.`, '; Run it with: berth --ini THIS_FILE', ''];
  const dropped: string[] = [];
  const web: string[] = [];
  const programs: string[] = [];
  let webFrom: SupervisorSection | null = null;
  for (const s of sections) {
    const where = `${path.basename(s.file)} line ${s.line}`;
    const drop = DROPPED.find(([re]) => re.test(s.name));
    if (drop !== undefined) { dropped.push(`; dropped [${s.name}] (${where}): ${drop[1]}`); continue; }
    if (s.name.startsWith('group:')) {
      dropped.push(`; dropped [${s.name}] (${where}): programs = ${s.entries.get('programs')?.value ?? ''}; berth ctl names each program (or all)`);
      continue;
    }
    if (!s.name.startsWith('program:')) { dropped.push(`; dropped [${s.name}] (${where}): not a supervisor section Berth knows`); continue; }
    const command = s.entries.get('command')?.value ?? '';
    const translated = webFrom === null ? webCommand(command) : null;
    if (translated === null) { programSection(s, programs); continue; }
    webFrom = s;
    const notes: string[] = [];
    const note = (t: string): void => { notes.push(`;   ${t}`); };
    web.push('[uwsgi]', `; from [${s.name}] (${where}): its command runs ${translated.server}; Berth's own web workers replace it`);
    const keys = new Set(translated.options.map(([k]) => k));
    for (const [k, v] of translated.options) web.push(v === null ? `${k} = true` : `${k} = ${v}`);
    const dir = s.entries.get('directory')?.value;
    if (dir !== undefined && !keys.has('chdir')) web.push(`chdir = ${dir}`);
    webNotes(s, web, note);
    for (const n of translated.notes) note(n);
    if (notes.length > 0) web.push('; settings whose meaning changes:', ...notes);
    web.push('');
  }
  if (webFrom === null) warnings.push('no [program:x] runs uwsgi or gunicorn: the output has no [uwsgi] section, so Berth serves no app; add module = … and http = … (or socket = …)');
  return { text: [...head, ...dropped, ...(dropped.length > 0 ? [''] : []), ...web, ...programs].join('\n'), warnings };
}
