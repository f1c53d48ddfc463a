/** Sizes the serving master's young generation: kept small for an app server, let grow for a proxying front. */
import { setFlagsFromString } from 'node:v8';

/** V8's own growth factor: a young generation that doubles up to 2 × 8 MiB semi-spaces under load. */
const V8_GROWTH_FACTOR = 2;

/**
 * Why small by default: under load V8 doubles the young generation up to 2 × 8 MiB semi-spaces,
 * and the pages it touched stay resident: 6 MiB of the master's private memory after a minute
 * of requests, for objects that live one request. --semi-space-growth-factor is read each time
 * V8 considers growing, so setting it at run time works (--max-semi-space-size, fixed when the
 * heap is made, would need a flag on node's command line). Measured in docs/benchmarks.md: an
 * app server's master did not spend more CPU per request, since scavenge cost follows the
 * survivors, not the space.
 *
 * Why a proxying master may grow it: a front that relays to upstreams makes far more garbage
 * per request (two sockets' worth of objects for a uwsgi backend), and with the semi-space
 * held at its start size it scavenges several times as often. Measured in docs/benchmarks.md
 * ("issue 14: the front's CPU, again"): the CPU per proxied request and the PSS it costs.
 */
export function sizeYoungGeneration(proxies: boolean): void {
  setFlagsFromString(`--semi-space-growth-factor=${proxies ? V8_GROWTH_FACTOR : 1}`);
}
