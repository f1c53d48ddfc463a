/**
 * Reads supervisor-style [program:NAME] sections of a Berth ini into ProgramSpecs, with
 * supervisor's keys spelled as supervisord.conf(5) spells them and its defaults, plus Berth's
 * depends-on, ready-check and reload-with-web. supervisor ignores a misspelt key; Berth refuses
 * it with the file, the line and the closest key. Values take supervisor's expansions:
 * %(program_name)s, %(process_num)02d, %(group_name)s, %(here)s, %(host_node_name)s, %(ENV_X)s.
 */
import os from 'node:os';
import path from 'node:path';
import { PROGRAM_DEFAULTS, parseReadyCheck, parseSignalName, type OutputTarget, type ProgramSpec } from './program-spec.js';
import type { Problem } from './problem.js';
import { suggest } from './suggest.js';
import { parseSize } from './units.js';

export interface ProgramSection {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly entries: readonly { readonly key: string; readonly value: string | null; readonly line: number }[];
}

/** Keys supervisor reads and Berth ignores, harmless (events and the XML-RPC URL have no meaning here). */
const IGNORED = new Set(['stdout_capture_maxbytes', 'stderr_capture_maxbytes', 'stdout_events_enabled', 'stderr_events_enabled', 'serverurl']);
/** Keys Berth accepts only at their off value. */
const OFF_ONLY = new Set(['stdout_syslog', 'stderr_syslog']);
const SUPPORTED = [
  'command', 'process_name', 'numprocs', 'numprocs_start', 'priority', 'autostart', 'autorestart', 'startsecs', 'startretries',
  'exitcodes', 'stopsignal', 'stopwaitsecs', 'stopasgroup', 'killasgroup', 'user', 'redirect_stderr', 'stdout_logfile',
  'stdout_logfile_maxbytes', 'stdout_logfile_backups', 'stderr_logfile', 'stderr_logfile_maxbytes', 'stderr_logfile_backups',
  'environment', 'directory', 'umask', 'depends-on', 'ready-check', 'reload-with-web',
];
/** Berth's own keys also read with supervisor's underscore spelling. */
const BERTH_ALIASES: Readonly<Record<string, string>> = { depends_on: 'depends-on', ready_check: 'ready-check', reload_with_web: 'reload-with-web' };
const ALL_KEYS = [...SUPPORTED, ...IGNORED, ...OFF_ONLY];

export interface ProgramsRead { readonly programs: ProgramSpec[]; readonly problems: Problem[]; readonly warnings: Problem[] }

/** `KEY="value",KEY2=value2` as supervisor writes environment (quotes optional, commas inside quotes kept). */
export function parseEnvironment(text: string): (readonly [string, string])[] | string {
  const out: (readonly [string, string])[] = [];
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("([^"]*)"|'([^']*)'|[^,]*)\s*(,|$)/y;
  let at = 0;
  const t = text.trim();
  while (at < t.length) {
    re.lastIndex = at;
    const m = re.exec(t);
    if (m === null) return `cannot read '${t.slice(at)}' as KEY="value"`;
    out.push([m[1] as string, m[3] ?? m[4] ?? (m[2] as string).trim()] as const);
    at = re.lastIndex;
    if (m[5] === '') break;
  }
  return out;
}

function expand(value: string, vars: Readonly<Record<string, string | number>>, env: Readonly<Record<string, string | undefined>>): string | { error: string } {
  let error: string | null = null;
  const out = value.replace(/%\(([A-Za-z0-9_]+)\)(-?\d*)([sd])|%%/g, (whole, name: string | undefined, width: string, conv: string) => {
    if (whole === '%%') return '%';
    const n = name as string;
    const v = n.startsWith('ENV_') ? env[n.slice(4)] : vars[n];
    if (v === undefined) {
      error = `%(${n})${width}${conv}: ${n.startsWith('ENV_') ? `the environment variable ${n.slice(4)} is not set` : `unknown name (known: ${Object.keys(vars).join(', ')}, ENV_<variable>)`}`;
      return whole;
    }
    const text = conv === 'd' ? String(Math.trunc(Number(v))) : String(v);
    const w = Number(width === '' ? 0 : width);
    return width.startsWith('0') ? text.padStart(w, '0') : w < 0 ? text.padEnd(-w) : text.padStart(w);
  });
  return error !== null ? { error } : out;
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** Every [program:x] section read; problems name the file, the line and the fix. */
export function readProgramSections(sections: readonly ProgramSection[], env: Readonly<Record<string, string | undefined>>): ProgramsRead {
  const programs: ProgramSpec[] = [];
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  for (const s of sections) readOne(s, env, programs, problems, warnings);
  return { programs, problems, warnings };
}

function readOne(s: ProgramSection, env: Readonly<Record<string, string | undefined>>, programs: ProgramSpec[], problems: Problem[], warnings: Problem[]): void {
  const program = s.name.slice('program:'.length).trim();
  const where = `[${s.name}]`;
  const at = (line: number, key: string, message: string, fix: string): void => { problems.push({ code: 'program-value', option: `${where} ${key}`, file: s.file, line, message: `${where} ${key}: ${message}`, fix }); };
  if (!/^[A-Za-z0-9_.-]+$/.test(program)) {
    problems.push({ code: 'program-value', option: where, file: s.file, line: s.line, message: `${where}: '${program}' is not a program name Berth can use (berth ctl names it, the log prefixes it)`, fix: 'use letters, digits, ".", "_" and "-" only' });
    return;
  }
  const raw = new Map<string, { value: string; line: number }>();
  for (const e of s.entries) {
    const key = BERTH_ALIASES[e.key] ?? e.key;
    if (!ALL_KEYS.includes(key)) {
      const near = suggest(key, ALL_KEYS);
      problems.push({ code: 'unknown-program-key', option: `${where} ${e.key}`, file: s.file, line: e.line, message: `${where}: unknown key '${e.key}'${near !== undefined ? ` — did you mean '${near}'?` : ''} (supervisor would ignore it silently)`, fix: near !== undefined ? `write ${near} = …` : `remove it; the keys are listed in docs/supervision.md` });
      continue;
    }
    raw.set(key, { value: e.value ?? '', line: e.line });
  }
  for (const key of IGNORED) {
    const r = raw.get(key);
    if (r !== undefined) warnings.push({ code: 'program-key-ignored', option: `${where} ${key}`, file: s.file, line: r.line, message: `${where} ${key} is read and ignored: Berth has no supervisor events or XML-RPC interface`, fix: `remove ${key} (berth ctl talks to Berth over its control socket)` });
  }
  for (const key of OFF_ONLY) {
    const r = raw.get(key);
    if (r !== undefined && !FALSE.has(r.value.trim().toLowerCase())) at(r.line, key, `${r.value}: Berth does not send program output to syslog`, `remove ${key}; the output goes to Berth's log (stdout_logfile = AUTO) or to a file`);
  }
  const line = (key: string): number => raw.get(key)?.line ?? s.line;
  const text = (key: string): string | undefined => raw.get(key)?.value;
  const bool = (key: string, dflt: boolean): boolean => {
    const v = text(key);
    if (v === undefined) return dflt;
    const w = v.trim().toLowerCase();
    if (TRUE.has(w)) return true;
    if (FALSE.has(w)) return false;
    at(line(key), key, `'${v}' is not a boolean`, `write ${key} = true or ${key} = false`);
    return dflt;
  };
  const int = (key: string, dflt: number, min: number): number => {
    const v = text(key);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v.trim()) || Number(v) < min) { at(line(key), key, `'${v}' is not a whole number of at least ${min}`, `write ${key} = ${dflt}`); return dflt; }
    return Number(v);
  };
  const command = text('command');
  if (command === undefined || command.trim() === '') {
    problems.push({ code: 'program-value', option: `${where} command`, file: s.file, line: s.line, message: `${where} has no command`, fix: 'add command = /path/to/program --its --arguments' });
    return;
  }
  const numprocs = int('numprocs', 1, 1);
  const numprocsStart = int('numprocs_start', 0, 0);
  const processName = text('process_name') ?? '%(program_name)s';
  if (numprocs > 1 && !processName.includes('%(process_num)')) {
    at(line('process_name'), 'process_name', `numprocs = ${numprocs} needs a process_name with %(process_num)s in it, or every process would have the same name`, 'write process_name = %(program_name)s_%(process_num)02d');
    return;
  }
  const autorestartText = (text('autorestart') ?? PROGRAM_DEFAULTS.autorestart).trim().toLowerCase();
  const autorestart = TRUE.has(autorestartText) ? 'true' : FALSE.has(autorestartText) ? 'false' : autorestartText === 'unexpected' ? 'unexpected' : null;
  if (autorestart === null) at(line('autorestart'), 'autorestart', `'${autorestartText}' is not true, false or unexpected`, 'write autorestart = unexpected (restart when the exit code is not in exitcodes), true or false');
  const exitcodes = (text('exitcodes') ?? '0').split(',').map((c) => c.trim());
  if (exitcodes.some((c) => !/^\d+$/.test(c) || Number(c) > 255)) at(line('exitcodes'), 'exitcodes', `'${text('exitcodes')}' is not a list of exit codes`, 'write exitcodes = 0,2');
  const stopsignal = parseSignalName(text('stopsignal') ?? 'TERM');
  if (stopsignal === null) at(line('stopsignal'), 'stopsignal', `'${text('stopsignal')}' is not a signal supervisor knows`, 'write one of TERM, HUP, INT, QUIT, KILL, USR1, USR2');
  const umaskText = text('umask');
  const umask = umaskText === undefined ? null : /^[0-7]{1,4}$/.test(umaskText.trim()) ? parseInt(umaskText.trim(), 8) : NaN;
  if (Number.isNaN(umask)) at(line('umask'), 'umask', `'${umaskText}' is not an octal mask`, 'write umask = 022');
  const here = path.dirname(s.file);
  const ready = text('ready-check');
  const readyCheck = ready === undefined ? null : parseReadyCheck(ready);
  if (typeof readyCheck === 'string') at(line('ready-check'), 'ready-check', readyCheck, 'write ready-check = tcp:127.0.0.1:5432, http://127.0.0.1:8000/health or cmd:pg_isready');
  // supervisor: killasgroup follows stopasgroup unless written, and stopasgroup without
  // killasgroup is refused (a SIGKILL that missed the group the stop signal reached). A lone
  // `killasgroup = false` was valid under supervisor (its stopasgroup defaults to false), so it
  // turns Berth's default stopasgroup off rather than refusing a config that moved over.
  const killWritten = raw.has('killasgroup');
  const loneKillOff = !raw.has('stopasgroup') && killWritten && !bool('killasgroup', true);
  const stopasgroup = loneKillOff ? false : bool('stopasgroup', PROGRAM_DEFAULTS.stopasgroup);
  const killasgroup = bool('killasgroup', stopasgroup);
  if (loneKillOff) warnings.push({ code: 'program-stop-group-off', option: `${where} killasgroup`, file: s.file, line: line('killasgroup'), message: `${where} killasgroup = false also turns off Berth's default stopasgroup = true (as under supervisor, where both are false): the stop signal and the SIGKILL reach only the program's own process, and its children may outlive it`, fix: 'remove killasgroup to stop the whole process group (Berth\'s default), or write stopasgroup = false to say this is meant' });
  if (stopasgroup && !killasgroup) at(line('killasgroup'), 'killasgroup', 'killasgroup = false with stopasgroup = true: the SIGKILL after stopwaitsecs would miss the processes the stop signal reached (supervisor refuses it too)', 'write stopasgroup = false as well, or remove killasgroup');
  if (bool('redirect_stderr', PROGRAM_DEFAULTS.redirectStderr)) {
    const errFile = text('stderr_logfile');
    if (errFile !== undefined && !['AUTO', 'NONE'].includes(errFile.trim().toUpperCase())) warnings.push({ code: 'program-key-ignored', option: `${where} stderr_logfile`, file: s.file, line: line('stderr_logfile'), message: `${where} stderr_logfile = ${errFile.trim()} is ignored: redirect_stderr = true sends stderr where stdout goes`, fix: 'remove stderr_logfile, or redirect_stderr' });
  }
  const dependsOn = (text('depends-on') ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '');
  const before = problems.length;
  for (let i = 0; i < numprocs; i++) {
    const num = numprocsStart + i;
    const vars = { program_name: program, group_name: program, process_num: num, numprocs, here, host_node_name: os.hostname() };
    let seen = env;
    const ex = (key: string, value: string): string => {
      const r = expand(value, vars, seen);
      if (typeof r === 'string') return r;
      at(line(key), key, r.error, 'write %(program_name)s, %(process_num)02d, %(here)s or %(ENV_NAME)s; %% for a literal %');
      return value;
    };
    // As supervisor: environment is expanded per process (%(process_num)s), and its keys are
    // then %(ENV_KEY)s for every other key of the section.
    let environment: readonly (readonly [string, string])[] = [];
    const envText = text('environment');
    if (envText !== undefined) {
      const parsed = parseEnvironment(ex('environment', envText));
      if (typeof parsed === 'string') at(line('environment'), 'environment', parsed, 'write environment = KEY="value",OTHER="value"');
      else environment = parsed;
    }
    seen = { ...env, ...Object.fromEntries(environment) };
    const name = ex('process_name', processName);
    const output = (stream: 'stdout' | 'stderr'): OutputTarget => {
      const v = text(`${stream}_logfile`);
      const key = `${stream}_logfile`;
      if (v === undefined || v.trim().toUpperCase() === 'AUTO') return { kind: 'log' };
      if (v.trim().toUpperCase() === 'NONE') return { kind: 'none' };
      const size = text(`${key}_maxbytes`);
      const parsedSize = size === undefined ? null : parseSize(size.replace(/B$/i, ''));
      if (parsedSize !== null && !parsedSize.ok) at(line(`${key}_maxbytes`), `${key}_maxbytes`, parsedSize.message, 'write 50MB, 1GB or 0 (never rotate)');
      const maxBytes = parsedSize?.ok === true ? parsedSize.value : PROGRAM_DEFAULTS.logfileMaxBytes;
      return { kind: 'file', path: path.resolve(here, ex(key, v.trim())), maxBytes, backups: int(`${key}_backups`, PROGRAM_DEFAULTS.logfileBackups, 0) };
    };
    const dir = text('directory');
    const spec: ProgramSpec = {
      name, program, origin: 'program', source: { kind: 'ini', file: s.file, line: s.line },
      command: ex('command', command.trim()),
      directory: dir === undefined ? null : path.resolve(here, ex('directory', dir.trim())),
      environment,
      user: text('user')?.trim() || null,
      umask: umask !== null && !Number.isNaN(umask) ? umask : null,
      autostart: bool('autostart', PROGRAM_DEFAULTS.autostart),
      autorestart: autorestart ?? 'unexpected',
      startsecsMs: int('startsecs', 1, 0) * 1000,
      startretries: int('startretries', PROGRAM_DEFAULTS.startretries, 0),
      exitcodes: exitcodes.filter((c) => /^\d+$/.test(c)).map(Number),
      stopsignal: stopsignal ?? 'SIGTERM',
      stopwaitMs: int('stopwaitsecs', 10, 0) * 1000,
      stopasgroup,
      killasgroup,
      redirectStderr: bool('redirect_stderr', PROGRAM_DEFAULTS.redirectStderr),
      stdout: output('stdout'),
      stderr: output('stderr'),
      priority: int('priority', PROGRAM_DEFAULTS.priority, 0),
      dependsOn, readyCheck: typeof readyCheck === 'string' ? null : readyCheck,
      reloadWithWeb: bool('reload-with-web', false),
      pidfile: null, reloadSignal: null,
    };
    if (problems.length === before) programs.push(spec);
  }
  // One mistake in a key shared by numprocs processes is said once.
  const said = new Set<string>();
  for (const p of problems.splice(before)) {
    const key = `${p.line}|${p.message}`;
    if (said.has(key)) continue;
    said.add(key);
    problems.push(p);
  }
}
