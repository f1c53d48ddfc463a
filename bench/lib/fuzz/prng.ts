/** A seeded PRNG (mulberry32) for the fuzzers and fuzz tests: one seed reproduces one run's inputs exactly. */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.below(256);
    return b;
  }

  /** `input` cut at 1–5 random offsets (sorted; empty pieces allowed). */
  split(input: Buffer): Buffer[] {
    const cuts = Array.from({ length: 1 + this.below(5) }, () => this.below(input.length + 1)).sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let from = 0;
    for (const cut of cuts) {
      pieces.push(input.subarray(from, cut));
      from = cut;
    }
    pieces.push(input.subarray(from));
    return pieces;
  }
}

/** A fresh seed when none is given (printed by the caller, so a failure can be replayed). */
export function randomSeed(): number {
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}
