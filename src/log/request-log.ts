/**
 * The request log in uWSGI's default shape, so existing log readers keep working:
 *   [pid: 4242|worker: 1|req: 7/31] 127.0.0.1 () {12 vars in 301 bytes} [Sat Nov 21 21:40:00 2026] GET /x => generated 13 bytes in 2 msecs (HTTP/1.1 200)
 * (uWSGI prints `app:` where Berth prints `worker:`, and a headers/switches tail Berth omits.)
 * A proxied request adds ` upstream ADDR in N msecs` (nginx's $upstream_addr, $upstream_response_time).
 * Values from the wire are escaped (peer-text.ts): uWSGI writes them raw, so a CR/LF in a
 * uwsgi var could forge a line there.
 */
import type { LogFacts } from './log-format.js';
import { countVars } from './request-facts.js';
import { logSafe } from '../protocol/peer-text.js';

export function defaultLine(f: LogFacts): string {
  const ex = f.ex;
  const req = ex.request;
  return (
    `[pid: ${f.workerPid}|worker: ${ex.workerId}|req: ${f.workerRequests}/${f.totalRequests}] ${logSafe(req.remoteAddress)} () ` +
    `{${countVars(ex.cgiBlock)} vars in ${ex.cgiBlock.length} bytes} [${f.clock.stamp(f.nowWall)}] ${logSafe(req.method)} ${logSafe(req.target)} => ` +
    `generated ${ex.bytesSent} bytes in ${Math.round(f.ms)} msecs (HTTP/1.${req.versionMinor} ${ex.status})` +
    (ex.upstreamAddr === null ? '' : ` upstream ${ex.upstreamAddr} in ${Math.round(ex.upstreamMs)} msecs`)
  );
}

