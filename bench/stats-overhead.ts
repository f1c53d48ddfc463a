/**
 * What stats cost a request, in process: 10^6 finished exchanges published on the
 * `berth:request-done` channel as router/front.ts does, first with nobody subscribed (stats
 * off), then with the stats registry subscribed (stats and metrics on); the best of 5
 * runs, in ns per request. The hello-world req/s A/B (`--servers berth,berth-stats`) is too
 * noisy on a shared machine to resolve 3 %; this isolates the only per-request work stats add.
 * Run: bash scripts/build.sh && node dist/bench/stats-overhead.js
 */
import { requestDone } from '../src/server/observe.js';
import { StatsRegistry } from '../src/stats/registry.js';
import { httpExchange } from '../test/log/fake-exchange.js';

const N = 1_000_000;
const exchanges = [0, 1, 2, 3].map((i) => {
  const ex = httpExchange({ target: `/page/${i}`, headers: ['Host', 'localhost'] });
  ex.status = i === 3 ? 404 : 200;
  ex.bytesSent = 13;
  ex.workerId = 1 + (i & 1);
  return ex;
});

function perRequestNs(): number {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) if (requestDone.hasSubscribers) requestDone.publish(exchanges[i & 3]);
    runs.push(Number(process.hrtime.bigint() - t0) / N);
  }
  runs.sort((a, b) => a - b);
  return runs[0]!;
}

perRequestNs(); // warm-up
const off = perRequestNs();
const registry = new StatsRegistry();
perRequestNs();
const on = perRequestNs();
registry.close();
console.log(`stats off: ${off.toFixed(1)} ns/request; stats on: ${on.toFixed(1)} ns/request (registry counted ${registry.requests} requests)`);
