/** A one-worker WorkerPool and Exchanges with just what the Dispatcher touches (dispatcher tests). */
import type { Exchange } from '../../src/server/exchange.js';
import type { WorkerPool } from '../../src/worker/pool.js';

/** One worker that holds what it is sent (in `sent`, until a test removes it, as its threads would); `busy` makes pick() find none. */
export function fakePool(): { pool: WorkerPool; sent: Exchange[]; busy: { value: boolean } } {
  const sent: Exchange[] = [];
  const busy = { value: false };
  const worker = { send: (ex: Exchange) => sent.push(ex) };
  const pool = {
    pick: () => (busy.value ? null : worker),
    get inFlight() {
      return sent.length;
    },
  } as unknown as WorkerPool;
  return { pool, sent, busy };
}

/** A waiting request whose error answers are recorded in `answers`. */
export function fakeExchange(answers: number[]): Exchange {
  return { aborted: false, onAbort: null, responder: { sendError: (status: number) => answers.push(status) } } as unknown as Exchange;
}
