/**
 * Switching from one generation to the next: whole (all new workers READY and checked, then one
 * switch) or chain (one slot at a time), and the one-slot replacement both use.
 *
 * Theory of operation: new workers are staged — spawned, kept out of the pool — until the
 * ready gate reports READY. With reload-check, each staged worker must then answer the check
 * request 2xx (./reload-check.ts). Only then does it join the pool and the worker it replaces
 * retire. Any failure kills the staged workers and leaves the old generation serving; the
 * returned string says why, for the log and for `berth --reload`.
 *
 * Workers that accept on shared listeners themselves (uwsgi-direct, http-direct) would take
 * connections until their stop reaches their accept loops; so a switch returns (and the new
 * generation is reported serving) only once every retiring one confirmed ACCEPT_STOPPED, or
 * after ACCEPT_STOP_WAIT_MS (it is logged; the switch goes on). A chain does so per worker.
 */
import { describeSource } from '../config/problem.js';
import type { Config } from '../config/schema.js';
import type { Dispatcher } from '../router/dispatcher.js';
import type { WorkerHandle } from '../worker/handle.js';
import type { WorkerPool } from '../worker/pool.js';
import type { Generation } from './generation.js';
import { checkWorker, CHECK_TIMEOUT_MS } from './reload-check.js';
import type { ReadyGate } from './ready-gate.js';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

/** How long a switch waits for a retiring direct worker's ACCEPT_STOPPED (a worker still in a request confirms after it). */
export const ACCEPT_STOP_WAIT_MS = 2000;

export interface SwitchContext {
  readonly pool: WorkerPool;
  readonly dispatcher: Dispatcher;
  readonly readyGate: ReadyGate;
  readonly log: Log;
  stopping(): boolean;
  setServing(g: Generation): void;
  retire(w: WorkerHandle): void;
  stopGeneration(g: Generation): void;
  /** Whether `w`'s generation accepts on shared listeners itself (uwsgi-direct, http-direct). */
  acceptsDirectly(w: WorkerHandle): boolean;
}

/** null when `g` serves in place of `old`; otherwise why not (old keeps serving). */
export async function wholeSwitch(ctx: SwitchContext, old: Generation, g: Generation): Promise<string | null> {
  const staged: WorkerHandle[] = [];
  for (let slot = 1; slot <= g.config.processes; slot++) staged.push(g.spawn(slot));
  const ready = await Promise.all(staged.map((w) => ctx.readyGate.wait(w)));
  let failure: string | null = null;
  if (!ready.every(Boolean)) {
    const failed = staged.find((w) => w.state !== 'READY');
    failure = `new worker ${failed?.slot ?? '?'} did not become ready${failed !== undefined ? whyNotReady(failed) : ''}`;
  } else if (!ctx.stopping()) {
    failure = await checkWorkers(ctx, staged, g.config);
  }
  if (failure !== null || ctx.stopping()) {
    for (const w of staged) w.kill();
    g.keep.clear();
    ctx.stopGeneration(g);
    return failure ?? 'Berth is stopping';
  }
  for (const w of staged) ctx.pool.add(w);
  ctx.setServing(g);
  const retiring = [...old.workers];
  for (const w of retiring) ctx.retire(w);
  old.keep.clear();
  ctx.dispatcher.drain();
  await untilNotAccepting(ctx, retiring);
  return null;
}

/** null when every slot was replaced; otherwise why the chain stopped (the rest stay old). */
export async function chainSwitch(ctx: SwitchContext, old: Generation, g: Generation): Promise<string | null> {
  ctx.setServing(g); // respawns and recycling now belong to the new generation
  const slots = Math.max(g.config.processes, ...[...old.keep].map((w) => w.slot));
  for (let slot = 1; slot <= slots; slot++) {
    const previous = [...old.keep].find((w) => w.slot === slot) ?? null;
    if (previous !== null) old.keep.delete(previous);
    if (slot > g.config.processes) {
      if (previous !== null) {
        ctx.retire(previous);
        await untilNotAccepting(ctx, [previous]);
      }
      continue;
    }
    const failure = await replaceSlot(ctx, g, slot, previous, true);
    if (failure === null && previous !== null) await untilNotAccepting(ctx, [previous]);
    if (failure !== null) {
      if (ctx.stopping()) return failure;
      if (previous !== null) old.keep.add(previous);
      // The old generation serves the slots not yet replaced; the new one keeps those it has.
      ctx.setServing(g.workers.size > 0 ? g : old);
      return `chain reload stopped at worker ${slot}: ${failure}; the remaining old workers keep serving`;
    }
  }
  old.keep.clear();
  return null;
}

/** A READY (and, when `check`, checked) replacement for `slot` joins the pool, then `previous` retires. */
export async function replaceSlot(ctx: SwitchContext, g: Generation, slot: number, previous: WorkerHandle | null, check: boolean): Promise<string | null> {
  const w = g.spawn(slot);
  const ready = await ctx.readyGate.wait(w);
  const failure = !ready ? `its replacement did not become ready${whyNotReady(w)}` : check && !ctx.stopping() ? await checkWorkers(ctx, [w], g.config) : null;
  if (failure !== null || ctx.stopping()) {
    w.kill();
    g.keep.delete(w);
    return failure ?? 'Berth is stopping';
  }
  ctx.pool.add(w);
  if (previous !== null) ctx.retire(previous);
  ctx.dispatcher.drain();
  return null;
}

/** Resolves once every retiring worker that accepted on shared listeners confirmed it stopped (or ACCEPT_STOP_WAIT_MS passed). */
async function untilNotAccepting(ctx: SwitchContext, retiring: readonly WorkerHandle[]): Promise<void> {
  const direct = retiring.filter((w) => ctx.acceptsDirectly(w));
  if (direct.length === 0) return;
  const confirmed = await Promise.all(direct.map((w) => w.acceptStopped(ACCEPT_STOP_WAIT_MS)));
  confirmed.forEach((ok, i) => {
    if (ok) return;
    const w = direct[i]!;
    ctx.log('warn', `retiring worker ${w.slot} (pid ${w.pid}) of generation ${w.generation} did not confirm within ${ACCEPT_STOP_WAIT_MS / 1000} s that it stopped accepting on the direct listeners (still in a request, or stuck); the switch goes on, and it may still take a connection until its stop reaches it`);
  });
}

/** reload-check: every worker in `ws` must answer 2xx; null when they did (or no check is set). */
async function checkWorkers(ctx: SwitchContext, ws: readonly WorkerHandle[], config: Config): Promise<string | null> {
  const path = config.reloadCheck;
  if (path === null) return null;
  const timeout = config.harakiriMs > 0 ? config.harakiriMs : CHECK_TIMEOUT_MS;
  const answers = await Promise.all(ws.map((w) => checkWorker(w, path, timeout)));
  const bad = answers.findIndex((a) => !a.ok);
  if (bad === -1) {
    ctx.log('info', `reload-check: ${ws.length} new worker(s) answered ${[...new Set(answers.map((a) => a.status))].join(', ')} to GET ${path}`);
    return null;
  }
  const w = ws[bad]!;
  const where = describeSource(config.sources['reload-check'] ?? { kind: 'default' });
  return `reload-check = ${path} (${where}): new worker ${w.slot} (pid ${w.pid}) ${answers[bad]!.why}; the app's traceback, if it printed one, is in the worker output above`;
}

/** Why a staged worker never became READY: its boot failure with the traceback, or its last output. */
export function whyNotReady(w: WorkerHandle): string {
  const f = w.bootFailure;
  if (f !== null) return `: ${f.message}${f.traceback.trim() !== '' ? `\n${f.traceback.trimEnd()}\n` : ''}`;
  const tail = w.recentOutput().trimEnd();
  return tail !== '' ? `; its last output:\n${tail}\n` : '';
}
