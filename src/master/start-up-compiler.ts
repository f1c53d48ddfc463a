/** V8's optimizing compiler held off while the master starts (and reloads its config), resumed once it serves. */
import { setFlagsFromString } from 'node:v8';

/**
 * Why: start-up runs some functions often enough for V8 to optimize them (the ES module
 * loader's URL and path helpers while ~140 modules resolve, the config's rule lookups), and one
 * TurboFan compilation makes the process touch the compiler's code in the node binary (~3.7 MiB
 * resident) and leaves malloc arenas behind on V8's worker threads (~0.6 MiB) — memory a bare
 * Node never has and an idle master then keeps for as long as it runs (docs/benchmarks.md,
 * "issue 16 item 5: the master's memory, fifth pass"). Start-up code runs once: the interpreter
 * and Sparkplug serve it as fast. --no-opt is read at each tier-up decision, so it can be set at
 * run time; code already optimized stays optimized, and serving code tiers up as before once
 * the compiler is resumed.
 */
let held = false;

/** A master whose app never gets ready (an import failing again and again) still serves: it is resumed then too. */
const LONGEST_HOLD_MS = 60_000;

function hold(): void {
  setFlagsFromString('--no-opt');
  held = true;
}

/** From bin/berth.js, before the CLI's modules load. */
export function holdOptimizingCompiler(): void {
  hold();
  setTimeout(() => { if (held) resumeOptimizingCompiler(); }, LONGEST_HOLD_MS).unref();
}

/** When the master serves (or any other command runs): V8 optimizes hot code again. */
export function resumeOptimizingCompiler(): void {
  setFlagsFromString('--opt');
  held = false;
}

/** Runs work that runs once (a reload's config load) with the compiler held, then restores what was. */
export function withoutOptimizing<T>(work: () => T): T {
  if (held) return work();
  hold(); // no cap timer: resumed below, right after the work
  try {
    return work();
  } finally {
    resumeOptimizingCompiler();
  }
}

export function optimizingCompilerHeld(): boolean {
  return held;
}
