/** Loads the configuration in a short-lived worker thread, so the serving master never holds the config layer's code. */
import { Worker } from 'node:worker_threads';
import type { EmperorLoad } from '../../config/emperor-config.js';
import type { LoadResult } from '../../config/load.js';
import type { Config } from '../../config/schema.js';

/**
 * Why: the config layer (47 modules: the option tables, validation, the compatibility rules)
 * is run once at start and once per reload, but an ES module, once imported, is never
 * unloaded: a master that loaded its config itself held ~2 MiB more live heap and ~4 MiB more
 * private memory for as long as it ran (docs/benchmarks.md, "issue 16 item 5: loading less").
 * A worker thread has its own V8 isolate, freed whole when it exits; the result crosses as a
 * structured clone (Config is plain data: objects, arrays, strings, numbers), its top level
 * frozen again here as validation froze it.
 */
export interface ThreadRequest {
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Whether the argv may start an emperor instead (at start; a reload re-reads a serving config). */
  readonly emperor: boolean;
}

export type ThreadAnswer =
  | { readonly kind: 'serve'; readonly result: LoadResult }
  | { readonly kind: 'emperor'; readonly emperor: Exclude<EmperorLoad, { kind: 'none' }> };

const ENTRY = new URL('./load-thread.js', import.meta.url);

/** The load of `request`, done in a worker thread that has exited by the time this resolves. */
export function loadOffThread(request: ThreadRequest): Promise<ThreadAnswer> {
  return new Promise((resolve, reject) => {
    let answer: ThreadAnswer | null = null;
    const thread = new Worker(ENTRY, { workerData: request, stdout: false, stderr: false });
    thread.once('message', (message: ThreadAnswer) => (answer = message));
    thread.once('error', reject);
    thread.once('exit', (code) => {
      if (answer !== null) resolve(freezeAnswer(answer));
      else reject(new Error(`the configuration loader thread exited (code ${code}) without an answer`));
    });
  });
}

/** A reload's config: the Config, or its problems as printable lines (as Reloads expects). */
export async function reloadOffThread(argv: readonly string[], cwd: string): Promise<Config | readonly string[]> {
  const answer = await loadOffThread({ argv, cwd, emperor: false });
  if (answer.kind !== 'serve') return ['the configuration now starts an emperor; a serving master cannot reload into one'];
  const { formatProblem } = await import('../../config/problem.js');
  return answer.result.ok ? answer.result.config : answer.result.problems.map(formatProblem);
}

function freezeAnswer(answer: ThreadAnswer): ThreadAnswer {
  // The top level, as validation froze it; nested parts a caller could have mutated stay as they were.
  if (answer.kind === 'serve' && answer.result.ok) Object.freeze(answer.result.config);
  if (answer.kind === 'emperor' && answer.emperor.kind === 'ok') Object.freeze(answer.emperor.config);
  return answer;
}
