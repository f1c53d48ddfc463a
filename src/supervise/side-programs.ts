/** The side programs of one Berth and their control socket, as the master's SidePrograms hook: started before the web workers, stopped with them. */
import type { Config } from '../config/schema.js';
import type { ProgramSpec } from '../config/program-spec.js';
import { ControlServer, type WebFacts } from './control-server.js';
import { Programs } from './programs.js';

type Level = 'info' | 'warn' | 'error';

export interface SideDeps {
  readonly config: Config;
  readonly log: (level: Level, message: string) => void;
  readonly line: (text: string) => void;
  readonly web: () => WebFacts;
  readonly restartWeb: () => void;
  readonly reread: () => readonly ProgramSpec[] | readonly string[];
}

export class SideProgramsService {
  readonly programs: Programs;
  readonly #deps: SideDeps;
  readonly #control: ControlServer | null;

  constructor(deps: SideDeps) {
    this.#deps = deps;
    this.programs = new Programs(deps.config.programs, { log: deps.log, line: deps.line });
    const path = deps.config.ctlSocket;
    this.#control = path === null ? null : new ControlServer(path, { programs: this.programs, web: deps.web, restartWeb: deps.restartWeb, reread: deps.reread, log: deps.log });
  }

  /** The control socket; a failure is logged, not fatal: the site serves without berth ctl. */
  async listen(): Promise<void> {
    if (this.#control === null) return;
    try {
      await this.#control.listen();
      this.#deps.log('info', `berth ctl: control socket ${this.#deps.config.ctlSocket} (mode 600)`);
    } catch (err) {
      this.#deps.log('error', `${(err as Error).message}; berth ctl cannot reach this instance`);
    }
  }

  async startBeforeWorkers(): Promise<void> {
    const c = this.#deps.config;
    if (c.programs.length > 0) this.#deps.log('info', `side programs: ${c.programs.map((p) => p.name).join(', ')}`);
    this.programs.startAll();
    if (c.webDependsOn.length > 0) {
      await this.programs.whenReady(c.webDependsOn);
      this.#deps.log('info', `web workers: ${c.webDependsOn.join(', ')} ready (web-depends-on); starting the web workers`);
    }
  }

  webReloading(): void {
    this.programs.webReloading();
  }

  async stopAll(boundMs: number): Promise<void> {
    await this.programs.stopAll(boundMs);
    this.#control?.close();
  }
}
