/** Imports the front door and the HTTP and uwsgi fronts behind it, and builds them for the front. */
import type { Socket } from 'node:net';
import type { FrontDoor } from '../server/front-door.js';
import type { HttpFront, HttpFrontDeps } from '../server/http-front.js';
import type { UwsgiFront } from '../server/uwsgi-front.js';

/** What the fronts share: the front's routes, accounting and log (../server/http-front.ts). */
export type DoorDeps = HttpFrontDeps;

/** The front door and the two fronts it hands connections to. */
export interface Door {
  readonly door: FrontDoor;
  readonly http: HttpFront;
  readonly uwsgi: UwsgiFront;
}

/**
 * Why a module of its own: the fronts' code (parsers, writers, request bodies, ~45 modules) is
 * imported here only, at the first connection the master serves itself, so a master whose
 * workers accept everything never loads it (./front.ts, #openDoor).
 */
export async function loadDoor(deps: DoorDeps): Promise<Door> {
  const [doorModule, httpModule, uwsgiModule, proxyHeader] = await Promise.all([
    import('../server/front-door.js'),
    import('../server/http-front.js'),
    import('../server/uwsgi-front.js'),
    import('../server/proxy-protocol-reader.js'),
  ]);
  const config = deps.config;
  const http = new httpModule.HttpFront(deps);
  const uwsgi = new uwsgiModule.UwsgiFront({ ...deps, date: () => http.date() });
  const door = new doorModule.FrontDoor({
    http,
    uwsgi,
    detectProtocol: config.detectProtocol,
    uwsgiAllow: config.uwsgiAllow,
    timeoutMs: config.httpTimeoutMs,
    proxyProtocol: proxyHeader.proxyProtocolRule(config.proxyProtocol, httpModule.forwardedTrustOf(config.forwardedAllowIps)),
    log: deps.log,
  });
  return { door, http, uwsgi };
}

/** The part of a socket's libuv handle that starts and stops reading (Node's own net.Socket uses it so). */
interface ReadingHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
}

/**
 * Stops `socket` reading until the returned function is called. Why: Node starts reading a
 * socket as it makes it; were an end of stream read before the door's listeners are on, a socket
 * that does not allow half-open would close itself unanswered (a uwsgi peer that sent its
 * request and then FIN). This is what net.Socket's own pause() does for its onread sockets.
 */
export function holdReading(socket: Socket): () => void {
  const handle = (socket as unknown as { _handle: ReadingHandle | null })._handle;
  if (handle === null || !handle.reading) return () => undefined;
  handle.reading = false;
  handle.readStop();
  return () => {
    if (socket.destroyed || handle.reading) return;
    handle.reading = true;
    handle.readStart();
  };
}
