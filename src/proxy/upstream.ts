/**
 * An upstream group at run time: its backends, their passive health and counters, and the
 * balancer that picks among them.
 *
 * Theory of operation (passive health, as nginx's max_fails/fail_timeout): a failure is what
 * proxy-next-upstream calls unsuccessful (connect errors and timeouts always; the listed
 * 5xx statuses). Failures are counted within a window of fail_timeout that starts at the first
 * one; the max_fails-th within it puts the backend out for fail_timeout. After that it is
 * tried again; one success clears the count (nginx: "a successful response resets fails").
 * max_fails=0 disables the accounting. A `down` backend is never picked; `backup` ones only
 * when no primary is available (the balancer's rule). Time comes from an injected clock.
 */
import { HealthBoard } from './health/health-board.js';
import { startActiveChecks, type ActiveChecks } from './health/active-checks.js';
import { probeTarget, type ProbeTarget } from './health/probes.js';
import type { BackendSpec, UpstreamGroupSpec } from '../config/schema.js';
import { makeBalancer, type BackendView, type Balancer } from './balance/balancer.js';

export type BackendState = 'up' | 'out' | 'down';

export class Backend implements BackendView {
  readonly index: number;
  readonly spec: BackendSpec;
  readonly weight: number;
  readonly backup: boolean;
  /** host:port or the socket path, as $upstream_addr shows it (made once: every request logs it). */
  readonly address: string;
  /** Requests in flight, shared with the same backend of the group a reload replaced (least-conn sees them). */
  #load: { active: number } = { active: 0 };
  requests = 0;
  failures = 0;
  /** Failures in the current window, and when the window began. */
  #fails = 0;
  #windowStart = 0;
  #outUntil = 0;
  readonly #now: () => number;

  /** With active checks: whether the last checks passed (a new backend is not trusted before its first pass). */
  readonly #trusted: () => boolean;

  constructor(index: number, spec: BackendSpec, now: () => number, trusted: () => boolean = () => true) {
    this.index = index;
    this.spec = spec;
    this.weight = spec.weight;
    this.backup = spec.backup;
    const t = spec.target;
    this.address = t.kind === 'unix' ? `unix:${t.path}` : `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    this.#now = now;
    this.#trusted = trusted;
  }

  get active(): number {
    return this.#load.active;
  }

  set active(n: number) {
    this.#load.active = n;
  }

  /** Takes over the passive health and the in-flight count of the same backend in the group a reload replaced. */
  adopt(previous: Backend): void {
    this.#fails = previous.#fails;
    this.#windowStart = previous.#windowStart;
    this.#outUntil = previous.#outUntil;
    this.#load = previous.#load;
  }

  get available(): boolean {
    return !this.spec.down && this.#now() >= this.#outUntil && this.#trusted();
  }

  get state(): BackendState {
    if (this.spec.down) return 'down';
    return this.available ? 'up' : 'out';
  }

  /** The nginx `server` name (host:port or unix:path): where `hash … consistent` puts its ring points. */
  get name(): string {
    return this.address;
  }

  /** A failure that proxy-next-upstream counts; true when it puts the backend out now. */
  fail(): boolean {
    this.failures++;
    if (this.spec.maxFails === 0) return false;
    const now = this.#now();
    if (this.#fails === 0 || now - this.#windowStart >= this.spec.failTimeoutMs) {
      this.#fails = 0;
      this.#windowStart = now;
    }
    this.#fails++;
    if (this.#fails < this.spec.maxFails) return false;
    this.#fails = 0;
    this.#outUntil = now + this.spec.failTimeoutMs;
    return true;
  }

  succeed(): void {
    this.#fails = 0;
  }
}

export class Upstream {
  readonly spec: UpstreamGroupSpec;
  readonly backends: readonly Backend[];
  readonly #balancer: Balancer;
  readonly #health: HealthBoard | null;
  #checks: ActiveChecks | null = null;
  requests = 0;
  failures = 0;

  /**
   * `previous`: the group of the same name a reload replaces. Each backend whose URL is unchanged
   * keeps its passive health (out stays out), its active-check state (when both groups check)
   * and its in-flight count; a new or changed one starts afresh — untrusted until its first
   * check passes when the group has checks.
   */
  constructor(spec: UpstreamGroupSpec, now: () => number = () => performance.now(), previous: Upstream | null = null) {
    this.spec = spec;
    const health = spec.healthCheck === null ? null : new HealthBoard(spec.healthCheck, spec.backends.length);
    this.#health = health;
    this.backends = spec.backends.map((b, i) => new Backend(i, b, now, health === null ? undefined : () => health.isTrusted(i)));
    this.#balancer = makeBalancer(spec.balance);
    if (previous !== null) this.#adopt(previous);
  }

  #adopt(previous: Upstream): void {
    const taken = new Set<number>();
    for (const b of this.backends) {
      const old = previous.backends.find((o) => o.spec.url === b.spec.url && !taken.has(o.index));
      if (old === undefined) continue;
      taken.add(old.index);
      b.adopt(old);
      if (this.#health !== null && previous.#health !== null) this.#health.adopt(b.index, previous.#health, old.index);
    }
  }

  /** Starts the active checks (health-check), if the group has them; `log` gets each change of state. */
  startChecks(log: (level: 'info' | 'warn', message: string) => void): void {
    if (this.#health === null || this.#checks !== null) return;
    const targets = this.backends.map((b) => probeTarget(b.spec.url));
    if (targets.some((t) => t === null)) return;
    this.#checks = startActiveChecks(this.#health, targets as ProbeTarget[], {
      onChange: (c) => log(c.to === 'up' ? 'info' : 'warn', `upstream ${this.name}: backend ${this.backends[c.index]!.spec.url} is ${c.to === 'up' ? 'healthy' : 'failing its checks'} (${c.detail}; was ${c.from})`),
    });
  }

  stopChecks(): void {
    this.#checks?.stop();
    this.#checks = null;
  }

  get name(): string {
    return this.spec.name;
  }

  /** The next backend to try, or null when every one is out, down or already tried. */
  pick(key: string | null, tried: ReadonlySet<number>): Backend | null {
    const i = this.#balancer.pick(this.backends, key, tried);
    return i === null ? null : (this.backends[i] ?? null);
  }

  /** Whether a response status counts as a failure (403/404 never do). */
  countsAsFailure(status: number): boolean {
    return this.spec.nextUpstream.statuses.includes(status);
  }
}
