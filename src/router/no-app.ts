/**
 * What a request no route serves gets when `need-app = false` left Berth without an app: the
 * 500 uWSGI answers when no Python app is loaded, with a log line naming the request.
 */
import type { Exchange } from '../server/exchange.js';

type Level = 'info' | 'warn' | 'error';

export function noAppAnswer(log: (level: Level, message: string) => void): (ex: Exchange) => void {
  return (ex) => {
    log('error', `${ex.request.method} ${ex.request.target}: no python application found (need-app = false and no module, wsgi-file or mount is configured); answered 500`);
    ex.responder.sendError(500, 'Internal Server Error');
  };
}
