/**
 * Max-Forwards on OPTIONS and TRACE (RFC 9110 §7.6.2): a proxy that receives 0 answers as the
 * final recipient instead of forwarding; a larger value goes on decremented. Other methods
 * pass the field unchanged, as the RFC leaves them alone.
 */
import type { Exchange, ExchangeRequest } from '../server/exchange.js';

/** Berth as the final recipient of a TRACE: refused, as nginx refuses every TRACE (no reflection of cookies). */
const TRACE_REFUSED = Buffer.from('Berth does not reflect TRACE requests (Max-Forwards reached 0 here).\n');
const EMPTY = Buffer.alloc(0);

/**
 * The Max-Forwards value `req` came with (0: the front must answer itself), or -1:
 * not OPTIONS or TRACE, no field, or a value that is not a number (passed on as it came).
 */
export function maxForwardsOf(req: ExchangeRequest): number {
  const m = req.method;
  if (m !== 'OPTIONS' && m !== 'TRACE') return -1;
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i] as string;
    if (name.length !== 12 || name.toLowerCase() !== 'max-forwards') continue;
    const value = (h[i + 1] as string).trim();
    if (!/^\d{1,15}$/.test(value)) return -1;
    return Number(value);
  }
  return -1;
}

/** Answers an OPTIONS (200, no content) or a TRACE (405) whose Max-Forwards reached 0 at Berth. */
export function answerAsFinalRecipient(ex: Exchange): void {
  if (ex.request.method === 'OPTIONS') {
    ex.responder.sendFull('200 OK', ['Content-Length', '0'], EMPTY);
    return;
  }
  ex.responder.sendFull('405 Method Not Allowed', ['Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', 'Content-Type', 'text/plain; charset=utf-8'], TRACE_REFUSED);
}
