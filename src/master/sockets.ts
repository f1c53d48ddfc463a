/**
 * The master's sockets: binds every configured listener once (they outlive reloads), hands the
 * ones the master accepts on to the front, and keeps the uwsgi-direct ones the workers accept
 * on, with the relay socket through which workers pass back the connections they will not serve.
 */
import type { Config, ListenAddress, TlsSpec } from '../config/schema.js';
import { loadTlsMaterial } from '../config/tls-address.js';
import { tlsTuningOf } from '../config/tls-values.js';
import { BerthError } from '../errors/berth-error.js';
import type { TlsListener } from '../server/tls-listener.js';
import type { SummaryListener } from '../config/summary.js';
import type { Front } from '../router/front.js';
import type { ListenerFacts } from '../server/front-door.js';
import { adoptHandedListener, adoptListener, bindHandedListener, bindListener, type HandedListener } from '../server/listeners.js';
import { ChannelServer } from './channel-server.js';
import { explainBindError } from './port-owner.js';
import { FallbackAccept } from './fallback-accept.js';
import { listenEarly } from './listen-early.js';
import { assignInherited, type InheritedSocket } from './socket-activation.js';
import { readPacerOf } from '../server/read-pacing.js';
import type { Socket } from 'node:net';
import type { DirectSockets, HandOffNote } from './spawn.js';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * http-direct hand-over reasons that pass (a worker's only thread held in the app, a worker
 * retiring at a reload): the master answers what was sent, then closes, and the client's next
 * connection goes to a worker. Not 'static' (a browser would pay a connection per file), 'idle'
 * (back over the bound it was handed for), nor what the worker could not parse ('partial',
 * 'body', …). At a graceful stop the draining front closes every connection anyway.
 */
const GIVEN_BACK: ReadonlySet<string> = new Set(['busy', 'stop']);

export class MasterSockets {
  /** uwsgi-direct: the uwsgi sockets the workers accept on, and what the front door knows of each. */
  readonly #handed: { readonly listener: HandedListener; readonly facts: ListenerFacts }[] = [];
  /** http-direct: the TCP HTTP listeners the workers accept on, and what the front door knows of each. */
  readonly #handedHttp: { readonly listener: HandedListener; readonly facts: ListenerFacts; readonly givenBack: ListenerFacts }[] = [];
  /** uwsgi-direct: where workers relay the connections the master must serve. */
  #relay: ChannelServer | null = null;
  readonly #front: Front;
  #relaying = true;
  /** TLS listeners, by the address they were declared with (a reload renews their certificates). */
  readonly #tls: { readonly address: ListenAddress; readonly listener: TlsListener }[] = [];
  /** http-direct: the master's own accepting on the workers' HTTP listeners while none can. */
  readonly #fallback = new FallbackAccept();

  constructor(front: Front) {
    this.#front = front;
  }

  /**
   * Bind everything `config` lists, or adopt the socket systemd passed for it (`inherited`,
   * ./socket-activation.ts); throws an explained error when an address cannot be bound.
   */
  async bind(config: Config, log: Log, inherited: readonly InheritedSocket[] = [], python: string | null = null): Promise<void> {
    const unix = { chmod: config.chmodSocket, chown: config.chownSocket };
    const addresses = [...config.http, ...config.uwsgi];
    const adopted = assignInherited(addresses, inherited);
    const adoptedFds = new Set([...adopted.values()].map((a) => a.fd));
    for (const address of addresses) {
      const facts = { via: address.via ?? 'http', display: address.kind === 'unix' ? address.path : address.text, unix: address.kind === 'unix' };
      const fromSystemd = adopted.get(address);
      if (fromSystemd !== undefined) log('info', `${address.text}: the socket systemd passed (descriptor ${fromSystemd.fd}${fromSystemd.name !== '' ? `, ${fromSystemd.name}` : ''})`);
      if (address.tls !== undefined) {
        // TLS is the master's: the workers' direct paths take plain connections only.
        await this.#bindTls(config, address, address.tls, facts, log, fromSystemd?.fd ?? null);
        continue;
      }
      if (fromSystemd !== undefined && config.uwsgiDirect && address.via === 'socket') {
        const port = fromSystemd.address?.kind === 'tcp' ? fromSystemd.address.port : 0;
        const listener = adoptHandedListener(address, fromSystemd.fd, port);
        facts.display = listener.display;
        this.#handed.push({ listener, facts });
        continue;
      }
      if (fromSystemd !== undefined) {
        const bound = await adoptListener(address, fromSystemd.fd, (socket) => this.#front.accept(socket, facts));
        facts.display = bound.display;
        this.#front.adopt(bound);
        continue;
      }
      const httpDirect = config.httpDirect && address.via !== 'socket' && address.kind !== 'unix';
      if ((config.uwsgiDirect && address.via === 'socket') || httpDirect) {
        const listener = await bindHandedListener(address, unix).catch((err: unknown) => {
          throw explainBindError(err, address);
        });
        facts.display = listener.display;
        if (httpDirect) this.#handedHttp.push({ listener, facts, givenBack: { ...facts, givesBack: true } });
        else this.#handed.push({ listener, facts });
        continue;
      }
      const bound = await bindListener(address, config.listen, (socket) => this.#front.accept(socket, facts), unix)
        .catch((err: unknown) => {
          throw explainBindError(err, address);
        });
      facts.display = bound.display;
      this.#front.adopt(bound);
    }
    // Listening from now on, though no worker accepts yet: connections wait, none is refused.
    const early = [...this.#handed, ...this.#handedHttp].filter((h) => !adoptedFds.has(h.listener.fd)).map((h) => h.listener.fd);
    const failed = python === null ? null : listenEarly(python, early, config.listen);
    if (failed !== null) log('warn', `could not listen on the sockets the workers accept on before they start (${failed}): connections are refused until the workers listen`);
    if (this.#handed.length > 0) {
      this.#relay = await ChannelServer.open({
        uid: config.uid,
        gid: config.gid,
        onHello: () => 'this socket takes relayed connections only',
        onRelay: (relay, socket, initial) => {
          const h = this.#handed[relay.listener];
          if (h === undefined || !this.#relaying) {
            socket.destroy();
            return;
          }
          this.#front.accept(socket, h.facts, initial, { remoteAddress: relay.peer, remotePort: relay.port, localAddress: relay.local, localPort: relay.localPort });
        },
        log,
      });
    }
    // The master accepts on these itself, or takes what the workers relay from them: its door is
    // imported before the first such connection (only http-direct's hand-overs wait for it).
    if (this.#front.listeners.length > 0 || this.#handed.length > 0) await this.#front.openDoor();
  }

  /** A TLS listener: bound here, accepted by the front, each connection decrypted first (tls-listener.ts). */
  async #bindTls(config: Config, address: ListenAddress, spec: TlsSpec, facts: { display: string } & ListenerFacts, log: Log, inheritedFd: number | null): Promise<void> {
    const material = loadTlsMaterial(spec, tlsTuningOf(config));
    if (!material.ok) throw new BerthError('BERTH_CONFIG_INVALID', `${address.text}: ${material.message} — ${material.fix}`);
    // Loaded here, at the first TLS listener: node:tls and node:crypto cost a master without one nothing.
    const { TlsListener } = await import('../server/tls-listener.js');
    const tls = new TlsListener({
      spec,
      material: material.options,
      display: `${address.via === 'socket' ? 'ssl-socket' : address.via === 'http-socket' ? 'https-socket' : 'https'} ${address.text}`,
      http: address.via !== 'socket',
      timeoutMs: address.via === 'http' ? config.httpTimeoutMs : config.socketTimeoutMs,
      verbose: config.sslVerbose,
      exportCert: config.httpsExportCert,
      log,
    }, (socket, ends, tlsVars) => this.#front.accept(socket, { ...facts, tlsVars }, null, ends));
    const accept = (socket: Socket): void => tls.accept(socket);
    const bound = await (inheritedFd !== null ? adoptListener(address, inheritedFd, accept) : bindListener(address, config.listen, accept, { chmod: config.chmodSocket, chown: config.chownSocket }))
      .catch((err: unknown) => {
        throw explainBindError(err, address);
      });
    facts.display = bound.display;
    this.#front.adopt(bound);
    this.#tls.push({ address, listener: tls });
  }

  /**
   * Reload: each TLS listener reads its certificate and key again (renewed files). One that no
   * longer loads keeps serving with what it had, and the log says which file and why.
   */
  renewTls(config: Config, log: Log): void {
    const tuning = tlsTuningOf(config);
    for (const t of this.#tls) {
      const now = [...config.http, ...config.uwsgi].find((a) => a.text === t.address.text && a.via === t.address.via && a.tls !== undefined);
      if (now?.tls === undefined) continue;
      // The client-certificate rule stays the one the listener was bound with (a change needs a restart).
      const bound = t.address.tls!;
      const material = loadTlsMaterial({ ...now.tls, clientCa: bound.clientCa, clientCertRequired: bound.clientCertRequired }, tuning);
      if (!material.ok) {
        log('error', `${t.address.text}: the TLS certificate was not renewed: ${material.message} — ${material.fix}; the listener keeps the certificate it had`);
        continue;
      }
      t.listener.renew(material.options);
    }
  }

  /** Every bound listener: the front's, then the uwsgi sockets the workers accept on (uwsgi-direct). */
  get boundListeners(): readonly SummaryListener[] {
    return [
      ...this.#front.listeners.map((l) => ({ address: l.address, display: l.display, direct: false })),
      ...this.#handed.map(({ listener: l }) => ({ address: l.address, display: l.display, direct: true })),
      ...this.#handedHttp.map(({ listener: l }) => ({ address: l.address, display: l.display, direct: true })),
    ];
  }

  /** The sockets the workers accept on (stats lists them with the master's own). */
  get handed(): readonly HandedListener[] {
    return [...this.#handed, ...this.#handedHttp].map((h) => h.listener);
  }

  /** "uwsgi://… (the workers accept: uwsgi-direct)" for each uwsgi socket the workers accept on. */
  get handedUwsgiDisplays(): string[] {
    return this.#handed.map((h) => `uwsgi://${h.listener.display} (the workers accept: uwsgi-direct)`);
  }

  /** "http://… (the workers accept: http-direct)" for each HTTP listener the workers accept on. */
  get handedHttpDisplays(): string[] {
    return this.#handedHttp.map((h) => `http://${h.listener.display} (the workers accept: http-direct)`);
  }

  /** What a generation's workers need to accept on the uwsgi sockets themselves, or null. */
  direct(config: Config): DirectSockets | null {
    const relay = this.#relay;
    const http = this.#handedHttp.length === 0 ? null : {
      listeners: this.#handedHttp.map((h, index) => ({ fd: h.listener.fd, index, timeoutMs: h.facts.via === 'http-socket' ? config.socketTimeoutMs : config.httpTimeoutMs })),
      onHandOff: (note: HandOffNote, socket: Socket) => this.#handOff(note, socket),
    };
    if ((this.#handed.length === 0 || relay === null) && http === null) return null;
    return {
      listeners: relay === null ? [] : this.#handed.map((h, index) => ({ fd: h.listener.fd, unix: h.listener.address.kind === 'unix', index })),
      relayPath: relay?.path ?? '',
      token: relay?.token ?? '',
      config,
      http,
    };
  }

  /** http-direct: a connection a worker handed over; the front serves it as if it had accepted it. */
  #handOff(note: HandOffNote, socket: Socket): void {
    const h = this.#handedHttp[note.listener];
    if (h === undefined || !this.#relaying) {
      socket.destroy();
      return;
    }
    // As the listeners' own connections are (listeners.ts): a client that sent its request and
    // half-closed still gets the answer. Node made this socket from the descriptor just now and
    // reads it only from the next turn, so this is in time. No setNoDelay here: the connection
    // that serves it sets it (http-connection.ts, uwsgi-connection.ts) on the socket the front
    // door rebuilds, so a call here was a second setsockopt per connection. The ends the worker
    // sent spare asking the kernel for them again.
    socket.allowHalfOpen = true;
    if (note.reason === 'partial') readPacerOf(socket).headCameInPieces();
    this.#front.accept(socket, GIVEN_BACK.has(note.reason) ? h.givenBack : h.facts, null, note.ends);
  }

  /**
   * http-direct, every worker FATAL: the master accepts on the workers' HTTP listeners and its
   * front answers (503 until a generation is committed, then workersAccept()).
   */
  masterAccepts(python: string, log: Log): void {
    this.#fallback.start(python, this.#handedHttp.map((h) => h.listener.fd), (socket, index) => {
      const h = this.#handedHttp[index];
      if (h === undefined) {
        socket.destroy();
        return;
      }
      // As the listeners' own connections are (listeners.ts): half-open allowed, no delay.
      socket.allowHalfOpen = true;
      socket.setNoDelay(true);
      this.#front.accept(socket, h.facts);
    }, log);
  }

  /** A generation is committed: its workers accept on the listeners again, the master no more. */
  workersAccept(): void {
    this.#fallback.stop();
  }

  /** Stopping at once: connections workers relay from now on are closed unanswered. */
  stopRelaying(): void {
    this.#relaying = false;
  }

  close(): void {
    this.#fallback.stop();
    this.#front.closeListeners();
    for (const h of [...this.#handed, ...this.#handedHttp]) h.listener.close();
    this.#handed.length = 0;
    this.#handedHttp.length = 0;
    this.#tls.length = 0;
    this.#relay?.close();
    this.#relay = null;
  }
}
