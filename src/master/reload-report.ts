/**
 * The outcome of each reload, written next to the pidfile (`<pidfile>.reload`) for
 * `berth --reload` to wait on.
 *
 * Theory of operation: the master numbers the reloads it starts (seq) and rewrites one small
 * JSON file per pidfile at each step — running, on probation, done — by writing a temporary
 * file and renaming it over the old one, so a reader never sees half a report. The controlling
 * command notes the seq before it sends SIGHUP and waits for a report of this master's pid with
 * a higher seq whose phase is done. A file it cannot write is reported once in the log; the
 * command then says that no outcome came.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export type ReloadPhase = 'running' | 'probation' | 'done';

export interface ReloadReport {
  readonly pid: number;
  readonly seq: number;
  readonly phase: ReloadPhase;
  /** Meaningful once done: the new generation serves. */
  readonly ok: boolean;
  readonly message: string;
}

export function reportPath(pidfile: string): string {
  return `${pidfile}.reload`;
}

/** The report at `path`, or null when there is none (or it is not one). */
export function readReport(path: string): ReloadReport | null {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as Partial<ReloadReport>;
    if (typeof r.pid !== 'number' || typeof r.seq !== 'number' || typeof r.message !== 'string') return null;
    if (r.phase !== 'running' && r.phase !== 'probation' && r.phase !== 'done') return null;
    return { pid: r.pid, seq: r.seq, phase: r.phase, ok: r.ok === true, message: r.message };
  } catch {
    return null;
  }
}

export class ReloadReporter {
  readonly #paths: readonly string[];
  readonly #warn: (message: string) => void;
  #seq = 0;
  #failed = false;

  /** `pidfiles`: where the master's pid is written (a report goes beside each). */
  constructor(pidfiles: readonly (string | null)[], warn: (message: string) => void) {
    this.#paths = pidfiles.filter((p): p is string => p !== null).map(reportPath);
    this.#warn = warn;
  }

  begin(message: string): void {
    this.#seq++;
    this.#write('running', false, message);
  }

  probation(message: string): void {
    this.#write('probation', false, message);
  }

  done(ok: boolean, message: string): void {
    this.#write('done', ok, message);
  }

  /** The master stops: its reports mean nothing any more. */
  remove(): void {
    for (const p of this.#paths) rmSync(p, { force: true });
  }

  #write(phase: ReloadPhase, ok: boolean, message: string): void {
    const report: ReloadReport = { pid: process.pid, seq: this.#seq, phase, ok, message };
    for (const p of this.#paths) {
      try {
        writeFileSync(`${p}.tmp`, JSON.stringify(report) + '\n');
        renameSync(`${p}.tmp`, p);
      } catch (err) {
        if (this.#failed) continue;
        this.#failed = true;
        this.#warn(`cannot write the reload report ${p}: ${(err as Error).message}; 'berth --reload' cannot learn the outcome (let Berth's user write that directory)`);
      }
    }
  }
}
