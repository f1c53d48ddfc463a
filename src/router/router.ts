/**
 * The route table: static mappings first, then the app.
 *
 * Theory of operation: the route table is an ordered list — static mappings first, then (later)
 * proxy routes, then the WSGI app. Each route either takes the exchange or passes it on by
 * calling `next`; the last stop is the worker dispatcher. Routes are asynchronous (a static
 * route must stat a file before it knows), so passing on is a callback, not a return value.
 */
import type { Exchange } from '../server/exchange.js';

export interface Route {
  /** Serve `ex`, or call `next()` to let the following route have it. Must not throw. */
  serve(ex: Exchange, next: () => void): void;
}

export class Router {
  readonly #routes: readonly Route[];
  readonly #last: (ex: Exchange) => void;

  constructor(routes: readonly Route[], last: (ex: Exchange) => void) {
    this.#routes = routes;
    this.#last = last;
  }

  route(ex: Exchange): void {
    if (this.#routes.length === 0) this.#last(ex);
    else this.#step(ex, 0);
  }

  #step(ex: Exchange, i: number): void {
    if (ex.aborted) return;
    const r = this.#routes[i];
    if (r === undefined) this.#last(ex);
    else r.serve(ex, () => this.#step(ex, i + 1));
  }
}
