/** The uwsgi-protocol front: one UwsgiConnection per accepted connection, tracked for a graceful stop. */
import type { Socket } from 'node:net';
import type { HttpFrontDeps } from './http-front.js';
import { UwsgiConnection, type UwsgiFrontContext } from './uwsgi-connection.js';
import { endpointsOf, type Endpoints } from './endpoints.js';

/** The HTTP front's dependencies, plus its clock (one Date header source for both fronts). */
export interface UwsgiFrontDeps extends HttpFrontDeps {
  date(): string;
}

export class UwsgiFront {
  readonly #connections = new Set<UwsgiConnection>();
  readonly #ctx: UwsgiFrontContext;
  #draining = false;

  constructor(deps: UwsgiFrontDeps) {
    this.#ctx = {
      limits: { maxVarsBytes: deps.config.bufferSizeBytes, maxBodyBytes: deps.config.limitPostBytes },
      timeoutMs: deps.config.socketTimeoutMs,
      manageScriptName: deps.config.manageScriptName,
      scriptNames: deps.scriptNames,
      spool: deps.spool,
      date: deps.date,
      log: deps.log,
      dispatch: deps.dispatch,
      exchangeDone: deps.exchangeDone,
    };
  }

  /** `trusted` false: the peer's vars are kept request-only (uwsgi-trust.ts). */
  accept(socket: Socket, initial: Buffer | null, ends: Endpoints = endpointsOf(socket), trusted = true): void {
    if (this.#draining) {
      socket.destroy();
      return;
    }
    const conn = new UwsgiConnection(socket, this.#ctx, ends, trusted);
    this.#connections.add(conn);
    socket.once('close', () => this.#connections.delete(conn));
    if (initial !== null) conn.feed(initial);
  }

  drain(): void {
    this.#draining = true;
    this.closeIdle();
  }

  closeIdle(): void {
    for (const c of this.#connections) if (c.idle) c.close();
  }
}
