/** The uwsgi-protocol front: one UwsgiConnection per accepted connection, tracked for a graceful stop. */
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import type { Exchange } from './exchange.js';
import type { ScriptNameRule } from './script-name.js';
import { UwsgiConnection, type UwsgiFrontContext } from './uwsgi-connection.js';

export interface UwsgiFrontDeps {
  readonly config: Config;
  readonly scriptNames: ScriptNameRule;
  date(): string;
  dispatch(ex: Exchange): void;
  exchangeDone(ex: Exchange): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export class UwsgiFront {
  readonly #connections = new Set<UwsgiConnection>();
  readonly #ctx: UwsgiFrontContext & { draining: boolean };

  constructor(deps: UwsgiFrontDeps) {
    this.#ctx = {
      maxVarsBytes: deps.config.bufferSizeBytes,
      maxBodyBytes: deps.config.limitPostBytes,
      timeoutMs: deps.config.socketTimeoutMs,
      manageScriptName: deps.config.manageScriptName,
      scriptNames: deps.scriptNames,
      draining: false,
      date: deps.date,
      log: deps.log,
      dispatch: deps.dispatch,
      exchangeDone: deps.exchangeDone,
    };
  }

  accept(socket: Socket, initial: Buffer | null): void {
    if (this.#ctx.draining) {
      socket.destroy();
      return;
    }
    const conn = new UwsgiConnection(socket, this.#ctx);
    this.#connections.add(conn);
    socket.once('close', () => this.#connections.delete(conn));
    if (initial !== null) conn.feed(initial);
  }

  drain(): void {
    this.#ctx.draining = true;
    this.closeIdle();
  }

  closeIdle(): void {
    for (const c of this.#connections) if (c.idle) c.close();
  }

  get connectionCount(): number {
    return this.#connections.size;
  }
}
