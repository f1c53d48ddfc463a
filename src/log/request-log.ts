/**
 * The request log in uWSGI's default shape, so existing log readers keep working:
 *   [pid: 4242|worker: 1|req: 7/31] 127.0.0.1 () {12 vars in 301 bytes} [Sat Nov 21 21:40:00 2026] GET /x => generated 13 bytes in 2 msecs (HTTP/1.1 200)
 */
import type { Exchange } from '../server/exchange.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class RequestLog {
  #total = 0;
  #stampSecond = -1;
  #stamp = '';

  /**
   * `workerPid` and `workerRequests` describe who served it (0 when Berth answered itself);
   * durations use the monotonic clock (`performance.now()`), the timestamp the wall clock.
   */
  format(ex: Exchange, workerPid: number, workerRequests: number, nowMonotonic: number, nowWall: number): string {
    this.#total++;
    const req = ex.request;
    const vars = countVars(ex.cgiBlock);
    const ms = Math.round(nowMonotonic - ex.startedAt);
    return (
      `[pid: ${workerPid}|worker: ${ex.workerId}|req: ${workerRequests}/${this.#total}] ${req.remoteAddress} () ` +
      `{${vars} vars in ${ex.cgiBlock.length} bytes} [${this.#timestamp(nowWall)}] ${req.method} ${req.target} => ` +
      `generated ${ex.bytesSent} bytes in ${ms} msecs (HTTP/1.${req.versionMinor} ${ex.status})`
    );
  }

  #timestamp(now: number): string {
    const second = Math.floor(now / 1000);
    if (second !== this.#stampSecond) {
      this.#stampSecond = second;
      const d = new Date(second * 1000);
      const pad = (n: number): string => (n < 10 ? '0' + n : String(n));
      this.#stamp =
        `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${d.getDate()} ` +
        `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${d.getFullYear()}`;
    }
    return this.#stamp;
  }
}

function countVars(block: string): number {
  let n = 0;
  for (let i = block.indexOf('\0'); i !== -1; i = block.indexOf('\0', i + 1)) n++;
  return (n + 1) >> 1;
}
