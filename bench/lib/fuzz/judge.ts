/**
 * The fuzz oracles, applied to a finished campaign: no hang, no malformed answer, no app
 * call on input Berth's own TypeScript codecs reject, master and direct paths agreeing on
 * the same uwsgi bytes, valid inputs served. The two direct-path defects this fuzz has caught
 * (both fixed) keep a category of their own, so each can be asserted on its own.
 */
import type { CampaignResult, Sent } from './campaign.js';
import { attributeCalls, type AppCall } from './observe.js';
import { checkResponses } from './response-check.js';
import { httpVerdict, sniffed, uwsgiVerdict, type Limits, type UwsgiVerdict } from './verdict.js';

export type FindingCategory =
  | 'hang'
  | 'malformed-response'
  | 'app-called-on-invalid'
  | 'paths-disagree'
  /** The same uwsgi bytes answered with different statuses (or one path not answering). */
  | 'paths-answer-differently'
  /**
   * The direct path runs the app, then closes without an answer (was seen with bytes after
   * the packet, and with CONTENT_LENGTH sent empty and then as "0").
   */
  | 'direct-app-ran-unanswered'
  | 'valid-input-failed'
  /** The direct path calls the app with a body shorter than CONTENT_LENGTH. */
  | 'direct-truncated-body';

export interface Finding {
  readonly category: FindingCategory;
  readonly front: 'http' | 'uwsgi-master' | 'uwsgi-direct' | 'uwsgi-both';
  readonly id: number;
  readonly detail: string;
  readonly steps: readonly string[];
  readonly hex: string;
}

export interface CallRecords {
  readonly http: readonly AppCall[];
  readonly uwsgiMaster: readonly AppCall[];
  readonly uwsgiDirect: readonly AppCall[];
}

export interface Judgement {
  readonly inputs: number;
  readonly invalidInputs: number;
  readonly findings: readonly Finding[];
}

function finding(category: FindingCategory, front: Finding['front'], sent: Sent, detail: string): Finding {
  const hex = sent.input.bytes.subarray(0, 600).toString('hex');
  return { category, front, id: sent.input.id, detail, steps: sent.input.steps, hex };
}

/** Hang and answer shape: the same for every front. */
function judgeWire(front: Finding['front'], sent: Sent, out: Finding[]): void {
  if (!sent.reply.closed) out.push(finding('hang', front, sent, `no close within ${Math.round(sent.reply.ms)} ms; got ${sent.reply.data.length} bytes`));
  const check = checkResponses(sent.reply.data, sent.reply.closed);
  if (check.problem !== null) out.push(finding('malformed-response', front, sent, check.problem));
  if (sent.input.steps.length === 0 && (check.statuses.length === 0 || check.statuses.some((s) => s >= 300))) {
    out.push(finding('valid-input-failed', front, sent, `unmutated input answered ${JSON.stringify(check.statuses)}`));
  }
}

function mayCallUwsgi(v: UwsgiVerdict): number {
  return v.kind === 'complete' || v.kind === 'trailing' ? 1 : 0;
}

export function judgeCampaign(result: CampaignResult, calls: CallRecords, limits: Limits): Judgement {
  const out: Finding[] = [];
  let invalid = 0;
  const httpCalls = attributeCalls(calls.http, result.http.map((s) => s.window), true);
  for (const sent of result.http) {
    judgeWire('http', sent, out);
    const n = httpCalls.get(sent.input.id)?.length ?? 0;
    const asUwsgi = sniffed(sent.input.bytes) === 'uwsgi';
    const allowed = asUwsgi ? mayCallUwsgi(uwsgiVerdict(sent.input.bytes, limits)) : httpVerdict(sent.input.bytes, limits).complete;
    if (allowed === 0) invalid++;
    if (n > allowed) {
      const v = asUwsgi ? uwsgiVerdict(sent.input.bytes, limits).error : httpVerdict(sent.input.bytes, limits).error;
      out.push(finding('app-called-on-invalid', 'http', sent, `app called ${n}× where the TS ${asUwsgi ? 'uwsgi' : 'HTTP'} parser completes ${allowed} (${v ?? 'no error'}); calls: ${JSON.stringify(httpCalls.get(sent.input.id))}`));
    }
  }
  const masterCalls = attributeCalls(calls.uwsgiMaster, result.uwsgiMaster.map((s) => s.window), false);
  const directCalls = attributeCalls(calls.uwsgiDirect, result.uwsgiDirect.map((s) => s.window), false);
  result.uwsgiMaster.forEach((master, i) => {
    const direct = result.uwsgiDirect[i]!;
    judgeWire('uwsgi-master', master, out);
    judgeWire('uwsgi-direct', direct, out);
    const v = uwsgiVerdict(master.input.bytes, limits);
    const allowed = mayCallUwsgi(v);
    if (allowed === 0) invalid++;
    const m = masterCalls.get(master.input.id)?.length ?? 0;
    const d = directCalls.get(direct.input.id)?.length ?? 0;
    if (m > allowed) out.push(finding('app-called-on-invalid', 'uwsgi-master', master, `app called ${m}× on a packet the TS parser judges ${v.kind} (${v.error}); calls: ${JSON.stringify(masterCalls.get(master.input.id))}`));
    if (d > allowed) {
      const category = v.kind === 'truncated-body' ? 'direct-truncated-body' : 'app-called-on-invalid';
      out.push(finding(category, 'uwsgi-direct', direct, `app called ${d}× on a packet the TS parser judges ${v.kind} (${v.error}); calls: ${JSON.stringify(directCalls.get(direct.input.id))}`));
    }
    // The differential oracle: the same bytes are served by both paths or by neither.
    if ((m > 0) !== (d > 0) && !(v.kind === 'truncated-body' && d > 0 && m === 0)) {
      out.push(finding('paths-disagree', 'uwsgi-both', master, `master path called the app ${m}×, direct path ${d}× (TS parser: ${v.kind}${v.error === null ? '' : `, ${v.error}`}); answers: master ${JSON.stringify(checkResponses(master.reply.data, true).statuses)}, direct ${JSON.stringify(checkResponses(direct.reply.data, true).statuses)}; calls: master ${JSON.stringify(masterCalls.get(master.input.id) ?? [])}, direct ${JSON.stringify(directCalls.get(direct.input.id) ?? [])}`));
    }
    const ms = checkResponses(master.reply.data, true).statuses;
    const ds = checkResponses(direct.reply.data, true).statuses;
    // A truncated body is filed above as direct-truncated-body; an app run left unanswered apart.
    if (ms[0] !== ds[0] && v.kind !== 'truncated-body') {
      const category = ds.length === 0 && d > 0 ? 'direct-app-ran-unanswered' : 'paths-answer-differently';
      out.push(finding(category, 'uwsgi-both', master, `master path answered ${JSON.stringify(ms)}, direct path ${JSON.stringify(ds)} (TS parser: ${v.kind}${v.error === null ? '' : `, ${v.error}`}); app calls: master ${m}, direct ${d}`));
    }
  });
  return { inputs: result.http.length + result.uwsgiMaster.length * 2, invalidInputs: invalid, findings: out };
}

/** A finding as one line a person can replay: seed, input id, what was done, the bytes. */
export function describeFinding(seed: number, f: Finding): string {
  return `[${f.category}] ${f.front} seed=${seed} input=${f.id}: ${f.detail}; mutations: ${f.steps.join('; ') || 'none'}; bytes(hex, first 600): ${f.hex}`;
}
