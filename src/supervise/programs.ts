/**
 * Every side program of one Berth instance: started in order (priority, then depends-on: a
 * program starts only once what it depends on is ready), restarted with the web workers when
 * asked, changed in place by `update`, and stopped in reverse (dependents before what they
 * depend on) within the one stop bound.
 */
import type { ProgramSpec } from '../config/program-spec.js';
import { Program, type ProgramStatus } from './program.js';

type Level = 'info' | 'warn' | 'error';

export interface ProgramsDeps {
  readonly log: (level: Level, message: string) => void;
  readonly line: (text: string) => void;
}

export interface UpdatePlan { readonly added: string[]; readonly changed: string[]; readonly removed: string[] }

export class Programs {
  readonly #deps: ProgramsDeps;
  /** In start order: priority, then declaration order. */
  #programs: Program[] = [];
  /** Autostart programs not started yet because a dependency is not ready. */
  readonly #waiting = new Set<Program>();
  readonly #readyWaiters: { names: readonly string[]; resolve: () => void }[] = [];
  #stopping = false;
  #kicking = false;
  #kickAgain = false;

  constructor(specs: readonly ProgramSpec[], deps: ProgramsDeps) {
    this.#deps = deps;
    this.#programs = order(specs).map((s) => this.#make(s));
  }

  get list(): readonly Program[] {
    return this.#programs;
  }

  /** A program (all its processes), a process, or supervisorctl's GROUP:* and GROUP:PROCESS. */
  find(name: string): Program[] {
    const colon = name.indexOf(':');
    if (colon >= 0) {
      const group = name.slice(0, colon);
      const one = name.slice(colon + 1);
      return this.#programs.filter((p) => p.spec.program === group && (one === '*' || p.name === one));
    }
    return this.#programs.filter((p) => p.name === name || p.spec.program === name);
  }

  status(): ProgramStatus[] {
    const now = Date.now();
    return this.#programs.map((p) => p.status(now));
  }

  /** Start every autostart program whose dependencies are ready; the rest wait for them. */
  startAll(): void {
    for (const p of this.#programs) if (p.spec.autostart) this.#waiting.add(p);
    this.#kick();
  }

  /** Start one program now (berth ctl start): its dependencies must be ready. */
  start(p: Program): string | null {
    const missing = this.#unready(p.spec.dependsOn);
    if (missing.length > 0) return `${p.name} depends on ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not ready`;
    if (!p.start()) return `${p.name} is ${p.state}`;
    return null;
  }

  /** Resolves once every named program (or process) is ready. */
  whenReady(names: readonly string[]): Promise<void> {
    if (names.length === 0 || this.#unready(names).length === 0) return Promise.resolve();
    this.#deps.log('info', `waiting for ${this.#unready(names).join(', ')} to be ready`);
    return new Promise((resolve) => this.#readyWaiters.push({ names, resolve }));
  }

  /** The web workers reload: restart (or signal) the programs that go with them. */
  webReloading(): void {
    for (const p of this.#programs) {
      if (p.spec.reloadSignal !== null && p.state === 'RUNNING') {
        this.#deps.log('info', `program ${p.name}: ${p.spec.reloadSignal} (reloadsignal) with the web workers' reload`);
        p.signal(p.spec.reloadSignal);
      } else if (p.spec.reloadWithWeb && (p.state === 'RUNNING' || p.state === 'STARTING')) {
        this.#deps.log('info', `program ${p.name}: restarting with the web workers (${p.spec.origin === 'attach-daemon' ? 'attach-daemon, as in uWSGI' : 'reload-with-web = true'})`);
        void p.stop().then(() => this.start(p));
      }
    }
  }

  /** What `update` would do with these specs. */
  plan(specs: readonly ProgramSpec[]): UpdatePlan {
    const now = new Map(this.#programs.map((p) => [p.name, p]));
    const next = new Map(specs.map((s) => [s.name, s]));
    return {
      added: specs.filter((s) => !now.has(s.name)).map((s) => s.name),
      changed: specs.filter((s) => now.has(s.name) && !sameSpec(now.get(s.name)!.spec, s)).map((s) => s.name),
      removed: this.#programs.filter((p) => !next.has(p.name)).map((p) => p.name),
    };
  }

  /** Apply a re-read configuration: stop the removed, restart the changed, start the added. */
  async update(specs: readonly ProgramSpec[]): Promise<UpdatePlan> {
    const plan = this.plan(specs);
    const byName = new Map(specs.map((s) => [s.name, s]));
    const gone = this.#programs.filter((p) => plan.removed.includes(p.name) || plan.changed.includes(p.name));
    await Promise.all(gone.map((p) => p.stop()));
    for (const p of gone) this.#waiting.delete(p);
    const kept = new Map(this.#programs.filter((p) => !gone.includes(p)).map((p) => [p.name, p]));
    this.#programs = order(specs).map((s) => kept.get(s.name) ?? this.#make(s));
    for (const name of [...plan.added, ...plan.changed]) {
      const p = this.#programs.find((x) => x.name === name)!;
      p.spec = byName.get(name)!;
      if (p.spec.autostart) this.#waiting.add(p);
    }
    for (const n of plan.removed) this.#deps.log('info', `update: program ${n} removed (stopped)`);
    for (const n of plan.changed) this.#deps.log('info', `update: program ${n} changed (restarted)`);
    for (const n of plan.added) this.#deps.log('info', `update: program ${n} added`);
    this.#kick();
    return plan;
  }

  /**
   * Stop everything: dependents before what they depend on, in reverse start order; whatever
   * is still running when boundMs runs out is killed (SIGKILL to its group).
   */
  async stopAll(boundMs: number): Promise<void> {
    this.#stopping = true;
    this.#waiting.clear();
    // Whoever waited for a program to be ready (the web workers' start) waits no more: Berth is stopping.
    for (const w of this.#readyWaiters.splice(0)) w.resolve();
    const live = this.#programs.filter((p) => p.state !== 'STOPPED' && p.state !== 'EXITED' && p.state !== 'FATAL');
    if (live.length === 0) return;
    const stops = new Map<Program, Promise<void>>();
    const stopOf = (p: Program): Promise<void> => {
      let s = stops.get(p);
      if (s !== undefined) return s;
      const dependents = this.#programs.filter((q) => q.spec.dependsOn.some((d) => d === p.name || d === p.spec.program));
      s = Promise.all(dependents.map(stopOf)).then(() => p.stop());
      stops.set(p, s);
      return s;
    };
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'bound'>((resolve) => { timer = setTimeout(() => resolve('bound'), boundMs); });
    const all = Promise.all([...this.#programs].reverse().map(stopOf));
    const first = await Promise.race([all.then(() => 'done' as const), bound]);
    clearTimeout(timer);
    if (first === 'bound') {
      const left = this.#programs.filter((p) => p.state === 'STOPPING');
      this.#deps.log('warn', `stopping: ${left.map((p) => p.name).join(', ')} still running after ${boundMs / 1000} s (the stop bound); killing them`);
      for (const p of left) p.kill();
      await all;
    }
  }

  #make(spec: ProgramSpec): Program {
    return new Program(spec, { log: this.#deps.log, line: this.#deps.line, changed: () => this.#kick() });
  }

  #unready(names: readonly string[]): string[] {
    return names.filter((n) => {
      const ps = this.find(n);
      return ps.length === 0 || ps.some((p) => !p.ready);
    });
  }

  /**
   * Something became ready (or not): start what waited for it, wake who waited. Not re-entered:
   * a start changes a state, which calls #kick again; run inside the loop, that call would spawn
   * the later programs before this one (the priority order reversed) — it is run after instead.
   */
  #kick(): void {
    if (this.#stopping) return;
    if (this.#kicking) {
      this.#kickAgain = true;
      return;
    }
    this.#kicking = true;
    try {
      do {
        this.#kickAgain = false;
        this.#kickOnce();
      } while (this.#kickAgain && !this.#stopping);
    } finally {
      this.#kicking = false;
    }
  }

  #kickOnce(): void {
    for (const p of this.#programs) {
      if (!this.#waiting.has(p)) continue;
      if (this.#unready(p.spec.dependsOn).length > 0) continue;
      this.#waiting.delete(p);
      if (p.spec.dependsOn.length > 0) this.#deps.log('info', `program ${p.name}: ${p.spec.dependsOn.join(', ')} ready; starting`);
      p.start();
    }
    for (const w of [...this.#readyWaiters]) {
      if (this.#unready(w.names).length > 0) continue;
      this.#readyWaiters.splice(this.#readyWaiters.indexOf(w), 1);
      w.resolve();
    }
  }
}

/** Lower priority first (supervisor), then in the order written. */
function order(specs: readonly ProgramSpec[]): ProgramSpec[] {
  return specs.map((s, i) => [s, i] as const).sort((a, b) => a[0].priority - b[0].priority || a[1] - b[1]).map(([s]) => s);
}

function sameSpec(a: ProgramSpec, b: ProgramSpec): boolean {
  const strip = (s: ProgramSpec): string => JSON.stringify({ ...s, source: undefined });
  return strip(a) === strip(b);
}
