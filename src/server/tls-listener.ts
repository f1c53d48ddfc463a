/**
 * TLS termination for one listener (`https`, `https-socket`, `ssl-socket`): the master's own
 * handshake, then the decrypted connection goes to the front door like any other.
 *
 * Theory of operation: the first bytes decide. A TLS record (0x16, a handshake) is put back and
 * the socket handed to a tls.Server that never listens (its documented 'connection' entry), so
 * Node runs the handshake, the client-certificate rule, ALPN and the handshake timeout, and a
 * renewed certificate is one setSecureContext(). Anything else is a plain client on a TLS port:
 * an HTTP one gets nginx's answer (400, "The plain HTTP request was sent to HTTPS port") in
 * clear text, others are closed. Client CA without '!' (uWSGI's meaning): a certificate is asked
 * for, one that does not verify is refused, none at all is allowed.
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer, type SecureContextOptions, type Server, type TLSSocket } from 'node:tls';
import type { TlsSpec } from '../config/schema.js';
import { cannedResponse } from '../protocol/http1/canned.js';
import { TLS_HANDSHAKE } from '../protocol/uwsgi/sniff.js';
import { endpointsOf, type Endpoints } from './endpoints.js';
import { oneLineDn } from './tls-dn.js';

export interface TlsListenerOptions {
  readonly spec: TlsSpec;
  readonly material: SecureContextOptions;
  /** How people see the listener: "https 127.0.0.1:8443". */
  readonly display: string;
  /** http/https-socket listeners: plain HTTP gets a 400, ALPN offers http/1.1, the app gets HTTPS vars. */
  readonly http: boolean;
  /** First bytes and handshake must both come within this (http-timeout, or socket-timeout). */
  readonly timeoutMs: number;
  /** ssl-verbose: every failed handshake is logged, not only the first. */
  readonly verbose: boolean;
  /** https-export-cert: the client certificate as PEM in HTTPS_CC. */
  readonly exportCert: boolean;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** Called with the decrypted connection, its ends (the TCP connection's) and the CGI vars it adds ('' for none). */
export type Secured = (socket: TLSSocket, ends: Endpoints, vars: string) => void;

export class TlsListener {
  readonly #o: TlsListenerOptions;
  readonly #server: Server;
  readonly #secured: Secured;
  #failures = 0;
  #plainWarned = false;

  constructor(o: TlsListenerOptions, secured: Secured) {
    this.#o = o;
    this.#secured = secured;
    this.#server = createServer({
      ...o.material,
      handshakeTimeout: o.timeoutMs,
      requestCert: o.spec.clientCa !== null,
      rejectUnauthorized: o.spec.clientCertRequired,
      ...(o.http ? { ALPNProtocols: ['http/1.1'] } : {}),
    }, (s) => this.#onSecure(s));
    // With a listener here Node leaves the socket open (a stalled handshake would stay): close it.
    this.#server.on('tlsClientError', (err, s) => {
      this.#failed(err.message, s.remoteAddress);
      s.destroy();
    });
  }

  /** A connection accepted on the listener: wait for its first bytes (bounded), then TLS or a plain refusal. */
  accept(socket: Socket): void {
    const timer = setTimeout(() => socket.destroy(), this.#o.timeoutMs);
    const onError = (): void => void socket.destroy();
    socket.on('error', onError);
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', (first: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.off('error', onError);
      if (first[0] !== TLS_HANDSHAKE) {
        this.#plain(socket);
        return;
      }
      socket.unshift(first);
      this.#server.emit('connection', socket);
    });
  }

  /** A renewed certificate (reload): new handshakes use it, established connections keep theirs. */
  renew(material: SecureContextOptions): void {
    this.#server.setSecureContext(material);
  }

  #onSecure(s: TLSSocket): void {
    const ends = endpointsOf(s);
    // Without '!' a client may send no certificate, but one it sends must verify (uWSGI's rule).
    const peer = this.#o.spec.clientCa !== null ? s.getPeerX509Certificate() : undefined;
    if (peer !== undefined && !s.authorized) {
      this.#failed(`the client certificate did not verify against ${this.#o.spec.clientCa ?? ''} (${String(s.authorizationError)})`, ends.remoteAddress);
      s.destroy();
      return;
    }
    this.#secured(s, ends, this.#o.http ? httpsVars(peer, this.#o.exportCert) : '');
  }

  #plain(socket: Socket): void {
    if (!this.#plainWarned) {
      this.#plainWarned = true;
      this.#o.log('warn', `${this.#o.display}: a client from ${socket.remoteAddress ?? '?'} spoke ${this.#o.http ? 'plain HTTP' : 'without TLS'} to this TLS port (${this.#o.http ? 'answered 400' : 'closed'}; logged once) — use ${this.#o.http ? 'https:// (nginx: proxy_pass https://)' : 'TLS (nginx: uwsgi_pass suwsgi://)'}, or give plain clients a port of their own`);
    }
    if (!this.#o.http) {
      socket.destroy();
      return;
    }
    // Read and drop the rest, so the answer is not lost to a reset, and close within the timeout.
    const timer = setTimeout(() => socket.destroy(), this.#o.timeoutMs);
    socket.once('close', () => clearTimeout(timer));
    socket.on('error', () => socket.destroy());
    socket.resume();
    socket.end(cannedResponse(400, { date: new Date().toUTCString(), close: true, message: 'The plain HTTP request was sent to HTTPS port' }));
  }

  #failed(reason: string, peer: string | undefined): void {
    this.#failures += 1;
    if (!this.#o.verbose && this.#failures > 1) return;
    const who = peer ?? 'a client';
    this.#o.log('warn', `${this.#o.display}: TLS handshake with ${who} failed: ${reason}${this.#o.verbose ? '' : ' (the first failure; ssl-verbose logs each)'}`);
  }
}

/** What uWSGI's https router adds for the app: HTTPS, and the client certificate's subject (and PEM) when one was sent. */
function httpsVars(peer: X509Certificate | undefined, exportCert: boolean): string {
  if (peer === undefined) return '\0HTTPS\0on';
  const dn = oneLineDn(peer.subject);
  return '\0HTTPS\0on\0HTTPS_DN\0' + dn + (exportCert ? '\0HTTPS_CC\0' + peer.toString() : '');
}
