/**
 * One differential fuzz campaign against live Berths: mutated HTTP/1.1 inputs to an `http`
 * port, and the same mutated uwsgi packets to a master-path socket (uwsgi-direct = false)
 * and a direct-path socket (the workers accept). Inputs go one at a time per server, so
 * every app call can be tied to the input on the wire. The findings are judged afterwards,
 * once the servers have stopped (judge.ts).
 */
import { validHttpRequest, validUwsgiPacket } from './corpus.js';
import { mutate, type MutatedInput } from './mutate.js';
import { Prng } from './prng.js';
import { sendInput, type Exchanged } from './send.js';
import type { SentWindow } from './observe.js';

export type Protocol = 'http' | 'uwsgi';

export interface FuzzInput extends MutatedInput {
  readonly id: number;
  readonly protocol: Protocol;
}

/** Input `id` of a seed: its own PRNG stream, so one input can be rebuilt alone from (seed, id). */
export function makeInput(seed: number, id: number, protocol: Protocol): FuzzInput {
  const rng = new Prng((seed ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0);
  const packet = protocol === 'http' ? validHttpRequest(id, rng) : validUwsgiPacket(id, rng);
  const mutated = mutate(packet.bytes, rng);
  return { id, protocol, ...mutated, steps: packet.tweak === null ? mutated.steps : [packet.tweak, ...mutated.steps] };
}

/** Wall-clock time with sub-millisecond precision, comparable with Python's time.time(). */
function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface Sent {
  readonly input: FuzzInput;
  readonly reply: Exchanged;
  readonly window: SentWindow;
}

async function sendTimed(port: number, input: FuzzInput, deadlineMs: number): Promise<Sent> {
  const t0 = wallClockMs();
  const reply = await sendInput(port, input.bytes, input.splits, deadlineMs);
  return { input, reply, window: { id: input.id, t0, t1: wallClockMs(), port: reply.localPort } };
}

export interface CampaignPorts {
  readonly http: number;
  readonly uwsgiMaster: number;
  readonly uwsgiDirect: number;
}

export interface CampaignResult {
  readonly http: Sent[];
  readonly uwsgiMaster: Sent[];
  readonly uwsgiDirect: Sent[];
}

export interface CampaignOptions {
  readonly seed: number;
  /** First input id (a soak runs rounds of campaigns with fresh ids). */
  readonly firstId: number;
  /** Inputs per protocol. */
  readonly count: number;
  /** How long one connection may take before it counts as a hang. */
  readonly deadlineMs: number;
}

export async function runCampaign(ports: CampaignPorts, opts: CampaignOptions): Promise<CampaignResult> {
  const result: CampaignResult = { http: [], uwsgiMaster: [], uwsgiDirect: [] };
  const httpLoop = async (): Promise<void> => {
    for (let i = 0; i < opts.count; i++) {
      result.http.push(await sendTimed(ports.http, makeInput(opts.seed, opts.firstId + i, 'http'), opts.deadlineMs));
    }
  };
  const uwsgiLoop = async (): Promise<void> => {
    for (let i = 0; i < opts.count; i++) {
      const input = makeInput(opts.seed, opts.firstId + i, 'uwsgi');
      const [master, direct] = await Promise.all([
        sendTimed(ports.uwsgiMaster, input, opts.deadlineMs),
        sendTimed(ports.uwsgiDirect, input, opts.deadlineMs),
      ]);
      result.uwsgiMaster.push(master);
      result.uwsgiDirect.push(direct);
    }
  };
  await Promise.all([httpLoop(), uwsgiLoop()]);
  return result;
}
