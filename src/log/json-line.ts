/**
 * `log-json`: one JSON object per request, for log shippers (Loki, Elasticsearch, CloudWatch).
 * The keys are fixed so a schema can rely on them; headers the client did not send are null.
 * Strings are escaped as JSON (JSON.stringify for anything but plain printable ASCII), so quotes,
 * backslashes and control bytes sent by a client cannot break the line or forge another one.
 *
 * {"time":"2026-11-21T21:40:00.123Z","addr":"127.0.0.1","method":"GET","uri":"/x","proto":"HTTP/1.1","scheme":"http",
 *  "status":200,"size":13,"msecs":2,"micros":2345,"pid":4242,"wid":1,"uagent":"curl/8.5.0","referer":null,"host":"localhost:8000"}
 */
import type { LogFacts } from './log-format.js';
import { headerValue, serverProtocol } from './request-facts.js';
import { bytesToText } from '../protocol/peer-text.js';

/**
 * A JSON string literal of request bytes. Most values are printable ASCII without quotes or
 * backslashes and are wrapped as they are; the rest are decoded and escaped by JSON.stringify,
 * and then the characters it leaves raw that some readers take for line breaks or terminal
 * controls (C1 controls such as NEL, U+2028, U+2029) are escaped too.
 */
function str(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return JSON.stringify(bytesToText(value)).replace(RAW_IN_JSON, unicodeEscape);
  }
  return '"' + value + '"';
}

const RAW_IN_JSON = /[\u0080-\u009f\u2028\u2029]/g;

function unicodeEscape(c: string): string {
  return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
}

function optional(value: string): string {
  return value === '' ? 'null' : str(value);
}

export function jsonLine(f: LogFacts): string {
  const ex = f.ex;
  const req = ex.request;
  return (
    `{"time":"${f.clock.iso(f.startWall)}","addr":${str(req.remoteAddress)}` +
    `,"method":${str(req.method)},"uri":${str(req.target)}` +
    `,"proto":${str(serverProtocol(ex.cgiBlock, req.versionMinor))},"scheme":"${req.scheme}","status":${ex.status},"size":${ex.bytesSent}` +
    `,"msecs":${Math.floor(f.micros / 1000)},"micros":${f.micros},"pid":${f.workerPid},"wid":${ex.workerId}` +
    `,"uagent":${optional(headerValue(req.headers, 'user-agent'))},"referer":${optional(headerValue(req.headers, 'referer'))}` +
    `,"host":${optional(headerValue(req.headers, 'host'))}` +
    (ex.upstreamAddr === null ? '}' : `,"upstream_addr":${str(ex.upstreamAddr)},"upstream_msecs":${Math.round(ex.upstreamMs)}}`)
  );
}
