/**
 * uwsgi-direct: a request a worker served on a uwsgi socket itself reaches the master only as a
 * record (the packet's vars block, status, bytes, duration). Turned into a finished Exchange it
 * goes through the same access log as any other request, so log-format variables, the filters
 * and JSON lines read it exactly as if the master had served it: the vars are decoded by the
 * same parser and environ builder the uwsgi front uses.
 */
import type { DirectRecord } from '../protocol/worker/payloads.js';
import { UwsgiRequestParser } from '../protocol/uwsgi/request-parser.js';
import { MODIFIER1_WSGI_STRIP_SCRIPT_NAME, type UwsgiRequestHead } from '../protocol/uwsgi/types.js';
import { ANSWERED, Exchange } from './exchange.js';
import { buildUwsgiEnviron, exchangeRequestOf } from './uwsgi-environ.js';
import type { ScriptNameRule } from './script-name.js';

export interface DirectRecordOptions {
  readonly manageScriptName: boolean;
  readonly scriptNames: ScriptNameRule;
}

/**
 * The finished Exchange for `record`, with `startedAt` 0 so that its duration is the record's
 * own (pass `record.micros / 1000` as "now" to the access log); null if the vars do not parse.
 */
export function exchangeFromRecord(record: DirectRecord, opts: DirectRecordOptions): Exchange | null {
  let head: UwsgiRequestHead | null = null;
  const parser = new UwsgiRequestParser({
    onHead: (h) => (head = h),
    onBody: () => undefined,
    onMessageEnd: () => undefined,
    onError: () => undefined,
  }, { maxVarsBytes: 65535, maxBodyBytes: 0 });
  // The packet head the worker read, then the vars block itself (no copy of the block).
  parser.execute(Buffer.from([record.modifier1, record.vars.length & 0xff, record.vars.length >> 8, 0]));
  if (record.vars.length > 0) parser.execute(record.vars);
  const h = head as UwsgiRequestHead | null;
  if (h === null) return null;
  const env = buildUwsgiEnviron(h.vars, h.contentLength, {
    stripScriptName: record.modifier1 === MODIFIER1_WSGI_STRIP_SCRIPT_NAME || opts.manageScriptName,
    scriptNames: opts.scriptNames,
  });
  if (env === null) return null;
  const ex = new Exchange(exchangeRequestOf(env), env.block, null, ANSWERED, 0);
  ex.status = record.status;
  ex.bytesSent = record.bytesSent;
  ex.finished = true;
  return ex;
}
