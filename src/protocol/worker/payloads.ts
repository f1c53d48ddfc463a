/**
 * The JSON (and DIRECT's binary) payloads of the control frames, worker -> master and zygote:
 * READY, BOOT_FAIL, MODULES, RECYCLE, FORKED, EXITED, HELLO, RELAY, DIRECT, and FORK for tools.
 *
 * Every parser checks each field's type and throws a WorkerProtocolError naming the frame and
 * the field, so a worker that breaks the contract is stopped instead of misread.
 */
import { WorkerProtocolError } from './errors.js';
import { DIRECT_RECORD_HEAD_BYTES } from './frames.js';

/**
 * Django's static/media settings as the worker read them for static-from-django (absolute
 * paths or null), or why it could not. Declared here, beside READY, because both worker/ (which
 * receives it) and static/ (which maps it) read it, and those layers may not import each other.
 */
export type DjangoStaticInfo =
  | {
    readonly static_url: string | null;
    readonly static_root: string | null;
    readonly media_url: string | null;
    readonly media_root: string | null;
    readonly installed_apps_has_admin: boolean;
    readonly debug: boolean;
  }
  | { readonly error: string };

export interface ReadyInfo {
  readonly pid: number;
  readonly executable: string;
  readonly version: string;
  readonly threads: number;
  readonly sys_path: string[];
  /** Present only when the master asked for Django's static settings; its shape is checked by the user. */
  readonly django?: unknown;
}

export type BootFailKind = 'import' | 'callable' | 'check' | 'chdir' | 'config';

export interface BootFailInfo {
  readonly kind: BootFailKind;
  readonly message: string;
  readonly traceback: string;
  readonly executable: string;
  readonly sys_path: string[];
}

function parseJson(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (cause) {
    throw new WorkerProtocolError(`${what} payload is not JSON: ${(cause as Error).message}`);
  }
}

function parseJsonObject(payload: Buffer, what: string): Record<string, unknown> {
  const value = parseJson(payload, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WorkerProtocolError(`${what} payload is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function field<T>(obj: Record<string, unknown>, key: string, what: string, ok: (v: unknown) => boolean): T {
  if (!ok(obj[key])) throw new WorkerProtocolError(`${what} payload has a missing or bad "${key}"`);
  return obj[key] as T;
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every(isString);
const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

export function parseReady(payload: Buffer): ReadyInfo {
  const o = parseJsonObject(payload, 'READY');
  return {
    pid: field(o, 'pid', 'READY', isCount),
    executable: field(o, 'executable', 'READY', isString),
    version: field(o, 'version', 'READY', isString),
    threads: field(o, 'threads', 'READY', isCount),
    sys_path: field(o, 'sys_path', 'READY', isStringArray),
    ...(o.django !== undefined ? { django: o.django } : {}),
  };
}

const BOOT_FAIL_KINDS: readonly unknown[] = ['import', 'callable', 'check', 'chdir', 'config'];

export function parseBootFail(payload: Buffer): BootFailInfo {
  const o = parseJsonObject(payload, 'BOOT_FAIL');
  return {
    kind: field(o, 'kind', 'BOOT_FAIL', (v) => BOOT_FAIL_KINDS.includes(v)),
    message: field(o, 'message', 'BOOT_FAIL', isString),
    traceback: field(o, 'traceback', 'BOOT_FAIL', isString),
    executable: field(o, 'executable', 'BOOT_FAIL', isString),
    sys_path: field(o, 'sys_path', 'BOOT_FAIL', isStringArray),
  };
}

/** MODULES: JSON list of the absolute paths of the app's loaded module files. */
export function parseModules(payload: Buffer): string[] {
  const value = parseJson(payload, 'MODULES');
  if (!isStringArray(value)) throw new WorkerProtocolError('MODULES payload is not a JSON list of strings');
  return value as string[];
}

export interface RecycleInfo {
  /** The worker's resident memory (bytes) when it looked, after a request. */
  readonly rss: number;
  /** reload-on-rss in bytes. */
  readonly limit: number;
}

const isByteCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** RECYCLE: the worker's RSS passed reload-on-rss after a request. */
export function parseRecycle(payload: Buffer): RecycleInfo {
  const o = parseJsonObject(payload, 'RECYCLE');
  return { rss: field(o, 'rss', 'RECYCLE', isByteCount), limit: field(o, 'limit', 'RECYCLE', isByteCount) };
}

const isPid = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;

/** FORKED (zygote): the pid of the worker it forked for the frame's slot. */
export function parseForked(payload: Buffer): { readonly pid: number } {
  const o = parseJsonObject(payload, 'FORKED');
  return { pid: field(o, 'pid', 'FORKED', isPid) };
}

export interface ExitedInfo {
  /** null when fork() itself failed (then `error` says why). */
  readonly pid: number | null;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: string;
}

/** EXITED (zygote): how a forked worker ended, or {pid: null, error} when it could not be forked. */
export function parseExited(payload: Buffer): ExitedInfo {
  const o = parseJsonObject(payload, 'EXITED');
  const info: ExitedInfo = {
    pid: field(o, 'pid', 'EXITED', (v) => v === null || isPid(v)),
    code: field(o, 'code', 'EXITED', (v) => v === null || v === undefined || Number.isInteger(v)) ?? null,
    signal: field(o, 'signal', 'EXITED', (v) => v === null || v === undefined || (typeof v === 'string' && /^SIG[A-Z0-9]+$/.test(v))) ?? null,
  };
  if (o.error !== undefined) return { ...info, error: field(o, 'error', 'EXITED', isString) };
  if (info.pid === null) throw new WorkerProtocolError('EXITED payload without a pid must carry an "error"');
  return info;
}

/** HELLO (forked worker, first frame of its connection): who it claims to be. */
export function parseHello(payload: Buffer): { readonly pid: number; readonly token: string } {
  const o = parseJsonObject(payload, 'HELLO');
  return { pid: field(o, 'pid', 'HELLO', isPid), token: field(o, 'token', 'HELLO', isString) };
}

/** RELAY (uwsgi-direct): which socket the relayed connection reached, and from whom. */
export interface RelayInfo {
  readonly token: string;
  readonly listener: number;
  readonly peer: string;
  readonly port: number;
  /** The address and port the peer had reached ('' and 0 on a unix socket). */
  readonly local: string;
  readonly localPort: number;
}

export function parseRelay(payload: Buffer): RelayInfo {
  const o = parseJsonObject(payload, 'RELAY');
  return {
    token: field(o, 'token', 'RELAY', isString),
    listener: field(o, 'listener', 'RELAY', isCount),
    peer: field(o, 'peer', 'RELAY', isString),
    port: field(o, 'port', 'RELAY', isCount),
    local: field(o, 'local', 'RELAY', isString),
    localPort: field(o, 'local_port', 'RELAY', isCount),
  };
}

/** One request a worker served on a uwsgi socket itself (uwsgi-direct), for the access log. */
export interface DirectRecord {
  readonly status: number;
  readonly bytesSent: number;
  readonly micros: number;
  /** When it ended, wall clock (Date.now() scale). */
  readonly endWallMs: number;
  readonly modifier1: number;
  /** The packet's vars block as the peer sent it (pairs of u16-length-prefixed strings). */
  readonly vars: Buffer;
}

export interface DirectReport {
  /** Requests this worker served directly since it started. */
  readonly served: number;
  /** The requests running now: [seconds so far, method, uri]. */
  readonly running: readonly (readonly [number, string, string])[];
  readonly records: readonly DirectRecord[];
}

const isRunning = (v: unknown): boolean =>
  Array.isArray(v) && v.every((r) => Array.isArray(r) && r.length === 3 && typeof r[0] === 'number' && r[0] >= 0 && typeof r[1] === 'string' && typeof r[2] === 'string');

export function parseDirect(payload: Buffer): DirectReport {
  const metaLength = payload.readUInt32LE(0);
  if (metaLength > payload.length - 4) throw new WorkerProtocolError(`DIRECT frame: ${metaLength} bytes of JSON announced, ${payload.length - 4} present`);
  const o = parseJsonObject(payload.subarray(4, 4 + metaLength), 'DIRECT');
  const records: DirectRecord[] = [];
  let pos = 4 + metaLength;
  while (pos < payload.length) {
    if (payload.length - pos < DIRECT_RECORD_HEAD_BYTES) throw new WorkerProtocolError(`DIRECT frame: ${payload.length - pos} stray bytes after record ${records.length}`);
    const varsLength = payload.readUInt32LE(pos + 23);
    const end = pos + DIRECT_RECORD_HEAD_BYTES + varsLength;
    if (end > payload.length) throw new WorkerProtocolError(`DIRECT frame: record ${records.length} announces ${varsLength} bytes of vars, ${payload.length - pos - DIRECT_RECORD_HEAD_BYTES} present`);
    records.push({
      status: payload.readUInt16LE(pos),
      bytesSent: Number(payload.readBigUInt64LE(pos + 2)),
      micros: payload.readUInt32LE(pos + 10),
      endWallMs: payload.readDoubleLE(pos + 14),
      modifier1: payload[pos + 22]!,
      vars: payload.subarray(pos + DIRECT_RECORD_HEAD_BYTES, end),
    });
    pos = end;
  }
  return {
    served: field(o, 'served', 'DIRECT', isCount),
    running: field(o, 'running', 'DIRECT', isRunning),
    records,
  };
}

/** FORK (master -> zygote; for tests and tools). */
export function parseFork(payload: Buffer): { readonly slot: number } {
  const o = parseJsonObject(payload, 'FORK');
  return { slot: field(o, 'slot', 'FORK', isCount) };
}
