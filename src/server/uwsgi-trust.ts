/**
 * Who may set uwsgi vars: the trust rule for a uwsgi packet, and the table of vars kept from a
 * peer whose identity vars are not trusted.
 *
 * Theory of operation. A uwsgi packet states who the client is (REMOTE_ADDR, REMOTE_USER,
 * HTTPS, SSL_CLIENT_* from nginx's uwsgi_param…) and the app believes it, so the packet is only
 * as trustworthy as its sender. The rule, per listener and peer:
 *
 *   peer                              socket listener      http / http-socket listener
 *   unix-socket peer                  trusted              trusted
 *   in uwsgi-allow                    trusted              trusted
 *   loopback TCP (not in uwsgi-allow) trusted              request-only
 *   anything else                     refused              refused
 *
 * Unix sockets are guarded by filesystem permissions. A `socket` port exists to receive uwsgi,
 * so a same-host relay in front of it was put there by its operator. An `http` port is where
 * clients arrive, often through same-host TCP relays (stunnel, haproxy mode tcp, ssh -L,
 * kubectl port-forward) that make any client a loopback peer; there a packet is served
 * request-only: the request itself is kept (what an HTTP client on the same port may send
 * anyway), everything else is dropped, and the connection's own ends stand in.
 */
import type { Endpoints } from './endpoints.js';
import { cgiServerName } from './http-environ.js';
import { inNetworks, LOOPBACK, type Cidr } from '../config/cidr.js';

export type UwsgiTrust = 'trusted' | 'request-only' | 'refused';

export interface TrustFacts {
  readonly declaredUwsgi: boolean;
  readonly unix: boolean;
  readonly loopback: boolean;
  readonly allowed: boolean;
}

export function uwsgiTrust(f: TrustFacts): UwsgiTrust {
  if (f.unix || f.allowed) return 'trusted';
  if (f.loopback) return f.declaredUwsgi ? 'trusted' : 'request-only';
  return 'refused';
}

/**
 * The rule for one connection: `peer` as endpointsOf reports it ('' for a unix-socket peer),
 * `allowed` the uwsgi-allow networks. The address is parsed only when the answer depends on it.
 */
export function peerTrust(declaredUwsgi: boolean, unixListener: boolean, peer: string, allowed: readonly Cidr[]): UwsgiTrust {
  const unix = unixListener || peer === '';
  return uwsgiTrust({
    declaredUwsgi,
    unix,
    loopback: !unix && inNetworks(peer, LOOPBACK),
    allowed: !unix && allowed.length > 0 && inNetworks(peer, allowed),
  });
}

/**
 * Vars kept from a request-only peer: they describe the request, as its request line and
 * framing would over HTTP. HTTP_* vars are kept too: an HTTP client on the same port sends any
 * header it likes, so they carry no more trust than they would there. Everything else — the
 * identity vars (REMOTE_ADDR, REMOTE_PORT, REMOTE_USER, AUTH_TYPE), the scheme (HTTPS,
 * UWSGI_SCHEME, REQUEST_SCHEME), SCRIPT_NAME (it prefixes the URLs the app builds), SERVER_*,
 * DOCUMENT_ROOT, SSL_* and any custom uwsgi_param — is dropped.
 */
const REQUEST_ONLY_VARS: ReadonlySet<string> = new Set([
  'REQUEST_METHOD', 'REQUEST_URI', 'PATH_INFO', 'QUERY_STRING', 'SERVER_PROTOCOL', 'CONTENT_TYPE', 'CONTENT_LENGTH',
]);

/** The flat [key, value, …] vars a request-only peer keeps, with the connection's own ends added. */
export function requestOnlyVars(vars: readonly string[], ends: Endpoints): string[] {
  const kept: string[] = [];
  let host = '';
  for (let i = 0; i < vars.length; i += 2) {
    const k = vars[i]!;
    if (!REQUEST_ONLY_VARS.has(k) && !k.startsWith('HTTP_')) continue;
    if (k === 'HTTP_HOST' && host === '') host = vars[i + 1]!;
    kept.push(k, vars[i + 1]!);
  }
  kept.push(
    'REMOTE_ADDR', ends.remoteAddress, 'REMOTE_PORT', String(ends.remotePort),
    'SERVER_NAME', cgiServerName(host, ends.localAddress), 'SERVER_PORT', String(ends.localPort),
  );
  return kept;
}
