/**
 * Reloads, from the ask to the outcome: SIGHUP, touch-reload, py-autoreload and
 * `berth --reload` all come here.
 *
 * Theory of operation: one reload runs at a time (RUNNING → RELOADING → RUNNING, in
 * ./master-state.ts); asks that come meanwhile make one more reload after it. A reload
 * re-reads the config, starts the next generation and waits for the workforce's switch (every
 * new worker READY, Django's check passed, reload-check answered 2xx). Only then is the new
 * generation committed. With reload-rollback-after the reload is not over yet: it waits for the
 * probation's verdict and, when the first answers were all 5xx, rolls back and commits the
 * previous generation again. Each step is reported beside the pidfile (./reload-report.ts).
 */
import { describeSource } from '../config/problem.js';
import type { Config, TlsSpec } from '../config/schema.js';
import type { WorkerReadyInfo } from '../worker/handle.js';
import { resolveInterpreter, type Interpreter } from './interpreter.js';
import type { MasterState } from './master-state.js';
import { PROBATION_MS, type Verdict } from './probation.js';
import type { ReloadReporter } from './reload-report.js';
import type { Workforce } from './workforce.js';

type Level = 'info' | 'warn' | 'error';

export interface ReloadRequest {
  readonly chain: boolean;
  readonly why: string;
}

export interface ReloadDeps {
  readonly workforce: Workforce;
  readonly reporter: ReloadReporter;
  readonly log: (level: Level, message: string) => void;
  /** Re-reads the configuration: a Config, or the problems as printable lines. */
  readonly reloadConfig?: () => Config | readonly string[];
  state(): MasterState;
  moveTo(next: MasterState): void;
  current(): { readonly config: Config; readonly interpreter: Interpreter };
  /** Imports the code `config`'s routes need (a proxy or static stage it adds), before anything is switched. */
  prepare(config: Config): Promise<void>;
  /** The commit point: the front, the watch loop and the triggers take this generation's config. */
  commit(config: Config, interpreter: Interpreter, ready: WorkerReadyInfo | null, importStartedAt: number): void;
  reopenLog(why: string): void;
  /** A reload begins (systemd's RELOADING=1) and ends, switched or not (READY=1 again). */
  readonly began?: (why: string) => void;
  readonly ended?: (ok: boolean, message: string) => void;
}

interface Outcome {
  readonly ok: boolean;
  readonly message: string;
}

export class Reloads {
  readonly #d: ReloadDeps;
  /** A reload asked for while one runs: it starts when that one ends (several asks make one). */
  #pending: ReloadRequest | null = null;

  constructor(deps: ReloadDeps) {
    this.#d = deps;
  }

  request(request: ReloadRequest): void {
    const state = this.#d.state();
    if (state === 'RELOADING') {
      this.#pending = request;
      this.#d.log('info', `${request.why}: a reload is running; another one follows it`);
      this.#d.workforce.endProbation(`${request.why} asked for a new reload`);
    } else if (state === 'RUNNING') {
      void this.#reload(request);
    } else if (state === 'STARTING') {
      this.#d.log('info', `${request.why}: reload ignored; the first generation is still starting`);
      this.#d.reporter.begin(request.why);
      this.#d.reporter.done(false, 'reload ignored: the first generation is still starting; try again once Berth is listening');
    }
  }

  async #reload(request: ReloadRequest): Promise<void> {
    this.#d.moveTo('RELOADING');
    this.#d.began?.(request.why);
    this.#d.reporter.begin(`${request.why}: reload running`);
    let outcome: Outcome = { ok: false, message: 'Berth is stopping' };
    try {
      outcome = await this.#run(request);
    } finally {
      if (this.#d.state() === 'RELOADING') this.#d.moveTo('RUNNING');
      this.#d.reporter.done(outcome.ok, outcome.message);
      this.#d.ended?.(outcome.ok, outcome.message);
    }
    const next = this.#pending;
    this.#pending = null;
    if (next !== null && this.#d.state() === 'RUNNING') void this.#reload(next);
  }

  async #run({ chain, why }: ReloadRequest): Promise<Outcome> {
    const kind = chain ? 'chain reload' : 'reload';
    const wf = this.#d.workforce;
    const before = this.#d.current();
    const serving = wf.generation;
    this.#d.log('info', `${why}: ${kind} of generation ${serving} requested`);
    const loaded = this.#d.reloadConfig?.() ?? before.config;
    if (!('http' in loaded)) {
      const message = `${kind} refused: the configuration has problems; generation ${serving} keeps serving:\n${loaded.map((l) => `  ${l}`).join('\n')}`;
      this.#d.log('error', message);
      return { ok: false, message };
    }
    const config = loaded as Config;
    await this.#d.prepare(config);
    let interpreter: Interpreter;
    try {
      interpreter = resolveInterpreter(config, process.env.PATH);
    } catch (err) {
      const message = `${kind} refused: ${(err as Error).message}; generation ${serving} keeps serving`;
      this.#d.log('error', message);
      return { ok: false, message };
    }
    const kept = fixedAtStart(before.config, config);
    if (kept.length > 0) this.#d.log('warn', `${kind}: ${kept.join(', ')} changed; these take effect only after a restart (the bound sockets and the master's identity are kept)`);
    if (config.logReopen) this.#d.reopenLog('log-reopen');
    const importStartedAt = Date.now();
    if (config.module === null && config.wsgiFile === null && before.config.module === null && before.config.wsgiFile === null) {
      // A pure front has no workers: the new routes and groups are the whole reload.
      this.#d.commit(config, interpreter, null, importStartedAt);
      const message = `${kind} done: routes and upstream groups re-read (pure front); requests in flight finish on the groups they started on`;
      this.#d.log('info', message);
      return { ok: true, message };
    }
    const result = await wf.reload(config, interpreter, chain);
    if (!result.switched) return { ok: false, message: `${kind} refused: ${result.why}; generation ${wf.generation} serves` };
    if (this.#d.state() !== 'RELOADING') return { ok: false, message: 'Berth is stopping' };
    // The commit point: routes, static mappings and access log switch with the workers.
    this.#d.commit(config, interpreter, result.ready, importStartedAt);
    const now = wf.generation;
    if (result.probation === null) return { ok: true, message: `${kind} done: generation ${now} serves` };
    const n = config.reloadRollbackAfter;
    this.#d.reporter.probation(`generation ${now} serves; waiting for its first answers (it is rolled back if the first ${n} are all 5xx; up to ${PROBATION_MS / 1000} s)`);
    const verdict = await result.probation;
    if (verdict.kind !== 'failed') return { ok: true, message: `${kind} done: generation ${now} serves (${accepted(verdict)})` };
    const where = describeSource(config.sources['reload-rollback-after'] ?? { kind: 'default' });
    const reason = `generation ${now} answered its first ${verdict.statuses.length} requests all with 5xx (${verdict.statuses.join(', ')}); reload-rollback-after = ${n} (${where})`;
    this.#d.log('error', `${reason}: rolling back`);
    const back = await wf.rollBack();
    if (typeof back === 'string') return { ok: false, message: `${reason}; the rollback failed (${back}), so generation ${now} keeps serving: fix the app and reload again` };
    if (this.#d.state() !== 'RELOADING') return { ok: false, message: 'Berth is stopping' };
    // The broken edit predates this moment, so py-autoreload does not reload it again.
    this.#d.commit(back.config, back.interpreter, back.ready, Date.now());
    const message = `reload rolled back: ${reason}; generation ${wf.generation} (the previous code) serves again`;
    this.#d.log('warn', message);
    return { ok: false, message };
  }
}

function accepted(v: Verdict): string {
  switch (v.kind) {
    case 'proven':
      return `its first answer below 500 was ${v.status}`;
    case 'quiet':
      return `${v.answers} answer(s) in ${PROBATION_MS / 1000} s, not enough to judge it; the previous generation is let go`;
    case 'ended':
      return `not judged: ${v.why}`;
    case 'failed':
      return 'failed';
  }
}

/** Options a reload cannot change: the sockets stay bound and the master keeps its identity. */
function fixedAtStart(before: Config, after: Config): string[] {
  const fields = ['http', 'uwsgi', 'uwsgiDirect', 'chmodSocket', 'chownSocket', 'detectProtocol', 'uwsgiAllow', 'forwardedAllowIps', 'proxyProtocol', 'mounts', 'bufferSizeBytes', 'limitPostBytes', 'spoolLimitBytes', 'listen', 'httpTimeoutMs', 'socketTimeoutMs', 'uid', 'gid', 'umask', 'pidfile', 'pidfile2', 'daemonize', 'daemonize2', 'logto', 'stats', 'statsHttp', 'metrics', 'sslVerbose', 'httpsExportCert'] as const;
  // A TLS listener's files and ciphers are not fixed: the reload renews them (sockets.ts renewTls).
  // Whether it is TLS at all and how it asks for client certificates were fixed when it was bound.
  const shown = (v: unknown): string => JSON.stringify(v, (k, x: unknown) =>
    (k === 'tls' && x !== undefined ? { clientCa: (x as TlsSpec).clientCa, required: (x as TlsSpec).clientCertRequired } : x));
  return fields.filter((f) => shown(before[f]) !== shown(after[f]));
}
