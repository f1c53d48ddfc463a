/**
 * A new generation on probation after a reload switched to it (reload-rollback-after = N).
 *
 * Theory of operation: the front tells the probation every answer a worker gave (through the
 * master, or on a uwsgi socket itself). Answers of other generations are ignored. The first
 * answer of the new generation under 500 proves it; N answers of 5xx in a row from the start
 * fail it (the arbiter then rolls back); PROBATION_MS without either accepts it, so the
 * previous generation's Python parent is not kept for ever on a quiet site. The verdict is
 * given once.
 */

/** How long the previous generation is kept for a rollback when too few requests arrive. */
export const PROBATION_MS = 15_000;

export type Verdict =
  | { readonly kind: 'proven'; readonly status: number }
  | { readonly kind: 'failed'; readonly statuses: readonly number[] }
  | { readonly kind: 'quiet'; readonly answers: number }
  | { readonly kind: 'ended'; readonly why: string };

export class Probation {
  readonly generation: number;
  readonly #limit: number;
  readonly #statuses: number[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #verdict: (v: Verdict) => void;
  #over = false;

  constructor(generation: number, limit: number, verdict: (v: Verdict) => void, windowMs = PROBATION_MS) {
    this.generation = generation;
    this.#limit = limit;
    this.#verdict = verdict;
    this.#timer = setTimeout(() => this.#give({ kind: 'quiet', answers: this.#statuses.length }), windowMs);
    this.#timer.unref();
  }

  get over(): boolean {
    return this.#over;
  }

  /** A worker of `generation` answered `status`. */
  answered(generation: number, status: number): void {
    if (this.#over || generation !== this.generation) return;
    if (status < 500) {
      this.#give({ kind: 'proven', status });
      return;
    }
    this.#statuses.push(status);
    if (this.#statuses.length >= this.#limit) this.#give({ kind: 'failed', statuses: this.#statuses });
  }

  /** Cut short (a new reload, a stop): the new generation stays. */
  end(why: string): void {
    this.#give({ kind: 'ended', why });
  }

  #give(v: Verdict): void {
    if (this.#over) return;
    this.#over = true;
    clearTimeout(this.#timer);
    this.#verdict(v);
  }
}
