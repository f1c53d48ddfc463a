/**
 * The supervision part of the Config: side programs from [program:x] sections and the
 * attach-daemon options, their dependencies checked (names exist, no cycle, `web` reserved),
 * the control socket's path and what the web workers wait for.
 */
import path from 'node:path';
import { readAttachDaemons, type DaemonValue } from './attach-daemon.js';
import type { Assigned, MapResult } from './map.js';
import { readProgramSections, type ProgramSection } from './program-sections.js';
import type { ProgramSpec } from './program-spec.js';
import { problemAt, type Problem } from './problem.js';
import type { Config } from './schema.js';
import { suggest } from './suggest.js';

export type SuperviseConfig = Pick<Config, 'programs' | 'ctlSocket' | 'webDependsOn'>;

/** The name the web workers answer to in berth ctl. */
export const WEB_PROGRAM = 'web';

export function buildSupervision(
  mapped: MapResult,
  sections: readonly ProgramSection[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  pidfile: string | null,
  problems: Problem[],
  warnings: Problem[],
): SuperviseConfig {
  const all = (f: 'programs' | 'ctlSocket' | 'webDependsOn'): readonly Assigned[] => mapped.assignments.get(f) ?? [];
  const read = readProgramSections(sections, env);
  problems.push(...read.problems);
  warnings.push(...read.warnings);
  const taken = new Set(read.programs.map((p) => p.name));
  const daemons: DaemonValue[] = all('programs').map((a) => ({ option: a.option.name as DaemonValue['option'], value: String(a.value), source: a.source, written: a.written }));
  const programs: ProgramSpec[] = [...read.programs];
  for (const d of readAttachDaemons(daemons, cwd, taken)) {
    if ('spec' in d) programs.push(d.spec);
    else problems.push(problemAt(d.value.source, { code: 'bad-value', option: d.value.written, message: d.message, fix: d.fix }));
  }
  const where = (p: ProgramSpec) => problemAt(p.source, { code: '', message: '' });
  const seen = new Map<string, ProgramSpec>();
  for (const p of programs) {
    if (p.name === WEB_PROGRAM) problems.push({ ...where(p), code: 'program-name', option: `[program:${p.program}]`, message: `a side program may not be called '${WEB_PROGRAM}': berth ctl shows the web workers under that name`, fix: 'rename the section (or its process_name)' });
    const first = seen.get(p.name);
    if (first !== undefined) problems.push({ ...where(p), code: 'program-name', option: `[program:${p.program}]`, message: `two side programs are named '${p.name}'`, fix: 'give each its own name (process_name, or name= in attach-daemon2)' });
    seen.set(p.name, p);
  }
  // depends-on names a program (all its processes) or one process.
  const names = new Set([...programs.map((p) => p.name), ...programs.map((p) => p.program)]);
  for (const p of programs) {
    for (const d of p.dependsOn) {
      if (names.has(d) && d !== p.program && d !== p.name) continue;
      const near = suggest(d, [...names]);
      problems.push({ ...where(p), code: 'program-depends', option: `[program:${p.program}] depends-on`, message: d === p.program || d === p.name ? `[program:${p.program}] depends on itself` : `[program:${p.program}] depends on '${d}', which is no program of this file${near !== undefined ? ` — did you mean '${near}'?` : ''}`, fix: `name one of: ${[...names].filter((n) => n !== p.program).join(', ') || '(no other program)'}` });
    }
  }
  const cycle = findCycle(programs);
  if (cycle !== null) problems.push({ ...where(programs.find((p) => p.program === cycle[0])!), code: 'program-depends', option: 'depends-on', message: `programs depend on each other in a circle: ${cycle.join(' → ')}`, fix: 'remove one of the depends-on entries that close the circle' });
  const webDependsOn: string[] = [];
  for (const a of all('webDependsOn')) {
    for (const d of String(a.value).split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (names.has(d)) webDependsOn.push(d);
      else problems.push(problemAt(a.source, { code: 'program-depends', option: a.written, message: `${a.written}: '${d}' is no side program of this configuration`, fix: names.size > 0 ? `name one of: ${[...names].join(', ')}` : 'add a [program:NAME] section first' }));
    }
  }
  const ctl = all('ctlSocket').at(-1);
  const ctlSocket = ctl !== undefined ? path.resolve(cwd, String(ctl.value)) : pidfile !== null ? `${pidfile}.ctl` : null;
  return { programs: Object.freeze(programs), ctlSocket, webDependsOn: Object.freeze(webDependsOn) };
}

/** A dependency circle by program name, or null. */
function findCycle(programs: readonly ProgramSpec[]): string[] | null {
  const deps = new Map<string, Set<string>>();
  const programOf = new Map(programs.map((p) => [p.name, p.program]));
  for (const p of programs) {
    const set = deps.get(p.program) ?? new Set<string>();
    for (const d of p.dependsOn) set.add(programOf.get(d) ?? d);
    deps.set(p.program, set);
  }
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...trail.slice(trail.indexOf(n)), n];
    state.set(n, 'open');
    trail.push(n);
    for (const d of deps.get(n) ?? []) {
      const c = visit(d);
      if (c !== null) return c;
    }
    trail.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of deps.keys()) {
    const c = visit(n);
    if (c !== null) return c;
  }
  return null;
}
