/**
 * Every listener's connections: protocol detection, uwsgi trust, then the HTTP or uwsgi front.
 *
 * Theory of operation: every listener's connections come through here. With detect-protocol
 * (the default) the first bytes decide what the peer speaks — a uwsgi packet (nginx
 * uwsgi_pass), an HTTP request (a browser, nginx proxy_pass), or a TLS ClientHello — whatever
 * the listener was declared as, so the classic socket/http mix-up is served instead of ending
 * in a 502. Each mismatch is logged once per listener, in plain words, with the nginx directive
 * that fits. With detect-protocol = false a mismatch is answered with an error that says the
 * same thing.
 *
 * uwsgi vars say who the client is (REMOTE_ADDR, HTTPS…), so, like gunicorn's forwarded-allow-ips,
 * they are trusted only from the peers the rule in uwsgi-trust.ts names: unix-socket peers, the
 * `uwsgi-allow` networks, and loopback on a `socket` port. A loopback peer on an `http` port (a
 * same-host TCP relay makes any client one) is served request-only; any other peer is refused.
 */
import type { Socket } from 'node:net';
import { endpointsOf, unmapIPv4, type Endpoints } from './endpoints.js';
import { sniffProtocol } from '../protocol/uwsgi/sniff.js';
import { cannedResponse } from '../protocol/http1/canned.js';
import { parseCidr, type Cidr } from '../config/cidr.js';
import { peerTrust } from './uwsgi-trust.js';
import { headerRequired, readProxyHeader, type ProxyProtocolRule } from './proxy-protocol-reader.js';
import type { ListenVia } from '../config/schema.js';
import type { HttpFront } from './http-front.js';
import type { UwsgiFront } from './uwsgi-front.js';
import { readAsStream, readsShared, readWith, withSharedReads } from './shared-reads.js';
import { readPacerOf } from './read-pacing.js';

/**
 * Bytes after which an undecided connection is handed to the listener's own protocol: the
 * sniff decides within 12 bytes except behind empty lines and a long method (sniff.ts).
 */
export const SNIFF_LIMIT = 64;

export interface ListenerFacts {
  readonly via: ListenVia;
  /** How the listener is shown to people: "127.0.0.1:8001" or "/run/site.sock". */
  readonly display: string;
  readonly unix: boolean;
  /**
   * Set on each connection of a TLS listener, decrypted by tls-listener.ts: the CGI vars TLS
   * adds for the app ('' on ssl-socket, whose vars nginx sends).
   */
  readonly tlsVars?: string;
  /**
   * HTTP only: a connection a worker handed over for a passing reason (http-direct's 'busy',
   * 'stop'): the master answers what it was sent, then closes it, so the client's next
   * connection goes to a worker again (HttpConnection.giveBack).
   */
  readonly givesBack?: true;
}

export interface FrontDoorDeps {
  readonly http: HttpFront;
  readonly uwsgi: UwsgiFront;
  readonly detectProtocol: boolean;
  readonly uwsgiAllow: readonly string[];
  readonly timeoutMs: number;
  /** proxy-protocol with forwarded-allow-ips; absent or null: no listener expects a PROXY header. */
  readonly proxyProtocol?: ProxyProtocolRule | null;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export class FrontDoor {
  readonly #deps: FrontDoorDeps;
  readonly #allowed: readonly Cidr[];
  readonly #warned = new Set<string>();

  constructor(deps: FrontDoorDeps) {
    this.#deps = deps;
    this.#allowed = deps.uwsgiAllow.map((c) => parseCidr(c)!);
  }

  /**
   * `initial` and `ends` are for a connection a worker relayed (uwsgi-direct): the bytes it had
   * already read, and the ends of the connection it had accepted, which the socket from the
   * worker cannot show.
   */
  accept(socket: Socket, listener: ListenerFacts, initial: Buffer | null = null, ends: Endpoints = endpointsOf(socket)): void {
    if (listener.tlsVars !== undefined) {
      // A TLS stream reads through its own layer, never the shared buffer.
      this.#sniff(socket, listener, initial, ends);
      return;
    }
    if (listener.via !== 'socket' && headerRequired(this.#deps.proxyProtocol ?? null, listener.display, ends.remoteAddress)) {
      this.#acceptProxied(socket, listener, initial, ends);
      return;
    }
    // HTTP listeners only: a uwsgi port's connections keep their streams (the uwsgi front reads 'data').
    this.#sniff(listener.via === 'socket' ? socket : withSharedReads(socket), listener, initial, ends);
  }

  /** A trusted peer on a proxy-protocol listener: the PROXY header first, then the connection as from the client it names. */
  #acceptProxied(socket: Socket, listener: ListenerFacts, initial: Buffer | null, ends: Endpoints): void {
    const timer = setTimeout(() => socket.destroy(), this.#deps.timeoutMs);
    socket.once('close', () => clearTimeout(timer));
    socket.on('error', () => socket.destroy());
    readProxyHeader(socket, initial, (outcome) => {
      clearTimeout(timer);
      if (!outcome.ok) {
        this.#deps.log('warn', `${describe(listener)}: closed a connection from ${ends.remoteAddress}: proxy-protocol expects a PROXY header from peers in forwarded-allow-ips, and ${outcome.reason} — send PROXY v1/v2 from the balancer (HAProxy send-proxy, nginx proxy_protocol on), or take the peer out of forwarded-allow-ips`);
        socket.destroy();
        return;
      }
      const client = outcome.client;
      const from = client === null ? ends : { ...ends, remoteAddress: unmapIPv4(client.address), remotePort: client.port };
      this.#sniff(socket, listener, outcome.rest.length > 0 ? outcome.rest : null, from);
    });
  }

  #sniff(socket: Socket, listener: ListenerFacts, initial: Buffer | null, ends: Endpoints): void {
    let seen: Buffer | null = null;
    const timer = setTimeout(() => socket.destroy(), this.#deps.timeoutMs);
    // A client trickling its first bytes is paced here already, and these reads count towards
    // its connection's (read-pacing.ts): "GET /" one byte at a time is five reads.
    // Only a shared-read socket can be paced (a stream socket, TLS included, ignores the answer).
    const pacer = readsShared(socket) ? readPacerOf(socket) : null;
    const onData = (chunk: Buffer): boolean => {
      // `chunk` may be the shared read buffer (shared-reads.ts): only a copy is kept for later.
      const bytes = seen === null ? chunk : Buffer.concat([seen, chunk]);
      // Judged on the first SNIFF_LIMIT bytes only, so the answer does not depend on how they arrived.
      let kind = sniffProtocol(bytes.length > SNIFF_LIMIT ? bytes.subarray(0, SNIFF_LIMIT) : bytes);
      if (kind === 'need-more' && bytes.length < SNIFF_LIMIT) {
        seen = seen === null ? Buffer.from(chunk) : bytes;
        return pacer === null || pacer.keepReading(chunk.length, true);
      }
      if (kind === 'need-more' || kind === 'unknown') kind = listener.via === 'socket' ? 'uwsgi' : 'http';
      clearTimeout(timer);
      // The next reader is set inside this read, so no bytes can slip between the two; no
      // pause()/resume() (each costs epoll_ctl calls on every new connection).
      socket.off('end', onEnd);
      this.#route(socket, listener, kind, bytes, ends);
      return true;
    };
    readWith(socket, onData);
    // A peer that closes before its first bytes say what it speaks: nothing to serve.
    const onEnd = (): void => {
      clearTimeout(timer);
      if (seen !== null) this.#deps.log('warn', `${describe(listener)}: a peer closed after ${seen.length} byte(s), before they formed a request; closed`);
      socket.destroy();
    };
    socket.once('end', onEnd);
    socket.once('close', () => clearTimeout(timer));
    socket.on('error', () => socket.destroy());
    if (initial !== null && initial.length > 0) onData(initial);
    if (socket.isPaused()) socket.resume();
  }

  #route(socket: Socket, listener: ListenerFacts, kind: 'uwsgi' | 'http' | 'tls', initial: Buffer, ends: Endpoints): void {
    const declared = listener.via === 'socket' ? 'uwsgi' : 'http';
    if (kind === 'tls') {
      this.#warnOnce(listener, 'tls', `${describe(listener)} received a TLS handshake (an https:// client or proxy_pass https://): this port is plain — send plain HTTP (http://, proxy_pass http://…) or uwsgi_pass here, or give TLS clients a TLS listener: https = ADDR,CERT,KEY (ssl-socket = … for uwsgi_pass suwsgi://)`);
      socket.destroy();
      return;
    }
    let trusted = true;
    if (kind === 'uwsgi') {
      const peer = ends.remoteAddress;
      const trust = peerTrust(declared === 'uwsgi', listener.unix, peer, this.#allowed);
      if (trust === 'refused') {
        this.#warnOnce(listener, `peer ${peer}`, declared === 'uwsgi' ? refusedOnUwsgiPort(listener, peer) : refusedOnHttpPort(listener, peer));
        socket.destroy();
        return;
      }
      trusted = trust === 'trusted';
    }
    if (kind !== declared) {
      const advice = kind === 'http' ? httpOnUwsgiPort(listener) : uwsgiOnHttpPort(listener);
      if (!this.#deps.detectProtocol) {
        this.#warnOnce(listener, kind, `${advice} (detect-protocol = false: refused)`);
        if (kind === 'http') socket.end(cannedResponse(400, { date: this.#deps.http.date(), close: true, message: `This port speaks the uwsgi protocol: ${advice}` }));
        else socket.destroy();
        return;
      }
      this.#warnOnce(listener, kind, `${advice} (served anyway)`);
    }
    if (kind === 'uwsgi') {
      if (!trusted) this.#warnOnce(listener, 'request-only', requestOnlyNotice(listener, ends.remoteAddress));
      const shared = readsShared(socket);
      readAsStream(socket);
      this.#deps.uwsgi.accept(socket, shared ? Buffer.from(initial) : initial, ends, trusted);
    } else {
      this.#deps.http.accept(socket, listener.via, initial, ends, listener.tlsVars ?? null, listener.givesBack === true);
    }
  }

  #warnOnce(listener: ListenerFacts, what: string, message: string): void {
    const key = `${listener.display} ${what}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#deps.log('warn', message);
  }
}

function describe(l: ListenerFacts): string {
  return `${l.via} ${l.display}`;
}

function httpOnUwsgiPort(l: ListenerFacts): string {
  const target = l.unix ? `unix:${l.display}` : l.display;
  return `${describe(l)} speaks the uwsgi protocol but received plain HTTP — in nginx use 'uwsgi_pass ${target};' with 'include uwsgi_params;' instead of proxy_pass, or declare this address as http = ${l.display}`;
}

function uwsgiOnHttpPort(l: ListenerFacts): string {
  const target = l.unix ? `unix:${l.display}` : l.display;
  return `${describe(l)} speaks HTTP but received a uwsgi packet (nginx uwsgi_pass) — in nginx use 'proxy_pass http://${target};' instead of uwsgi_pass, or declare this address as socket = ${l.display}`;
}

function refusedOnUwsgiPort(l: ListenerFacts, peer: string): string {
  return `refused a uwsgi-protocol connection from ${peer} on ${describe(l)}: uwsgi vars (REMOTE_ADDR, HTTPS, REMOTE_USER…) are trusted only from loopback and unix-socket peers unless allowed — add uwsgi-allow = ${peer}/32 (or its network) if this is your nginx`;
}

function refusedOnHttpPort(l: ListenerFacts, peer: string): string {
  return `refused a uwsgi packet (nginx uwsgi_pass) from ${peer} on ${describe(l)}: this port speaks HTTP, and uwsgi vars (REMOTE_ADDR, HTTPS, REMOTE_USER…) are trusted only from peers named by uwsgi-allow — if this is your nginx, give it a uwsgi port (socket = …) for uwsgi_pass, or add uwsgi-allow = ${peer}/32 (or its network)`;
}

function requestOnlyNotice(l: ListenerFacts, peer: string): string {
  return `${describe(l)}: served a uwsgi packet from the loopback peer ${peer} without trusting its identity: REMOTE_ADDR and REMOTE_PORT are the connection's, and REMOTE_USER, HTTPS, UWSGI_SCHEME, SCRIPT_NAME, SSL_* and other non-request vars were dropped, since a same-host TCP relay (stunnel, ssh -L, kubectl port-forward) makes any client a loopback peer — for nginx's uwsgi_pass declare a uwsgi port (socket = …), or trust loopback here with uwsgi-allow = 127.0.0.1/32`;
}
