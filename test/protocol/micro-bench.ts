/**
 * The timing loop of the codec micro-benchmarks (http1/parse.bench.ts, uwsgi/parse.bench.ts).
 * Not a test: `node --test` with default discovery loads every file under test/, so a
 * benchmark's main() runs only when started directly (NODE_TEST_CONTEXT unset).
 */

/** Warms `fn` up, then prints the best of 5 rounds of `iterations` calls, in ns per call. */
export function bench(name: string, iterations: number, fn: () => void, nameWidth: number): void {
  for (let i = 0; i < iterations / 10; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / iterations);
  }
  console.log(`${name.padEnd(nameWidth)} ${best.toFixed(0).padStart(6)} ns/op`);
}

export function runUnlessUnderTest(main: () => void): void {
  if (process.env['NODE_TEST_CONTEXT'] === undefined) main();
}
