/**
 * What the master's HTTP codec says about the first request in some bytes, in the shape the
 * Python parser's verdict has (test/python/http_verdict.py): the rulebook table and the
 * differential fuzz compare the two languages through it.
 */
import { RequestParser } from '../../../src/protocol/http1/request-parser.js';
import { absoluteFormAuthority } from '../../../src/protocol/http1/target.js';
import type { RequestHead } from '../../../src/protocol/http1/types.js';
import { buildCgiBlock, CgiNameCache, splitTarget, type ConnectionFacts } from '../../../src/server/http-environ.js';
import { ScriptNameRule } from '../../../src/server/script-name.js';

/** The fields the environ is built from. framing: the Content-Length (0 without a body) or "chunked". */
export interface ParsedVerdict {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly version: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly framing: number | 'chunked';
  readonly keep_alive: boolean;
  readonly expect_continue: boolean;
  readonly host: string;
  /** The de-chunked body, latin1 (chunked requests only). */
  readonly body?: string;
  /** The CGI variables the app sees (wsgi.* aside), or 400 when none can be built (a path decoding to NUL). */
  readonly environ?: CgiEnviron;
}

export type CgiEnviron = Readonly<Record<string, string>> | { readonly status: 400 };

/** The listener and peer a request arrived on, and the mountpoints: what the environ needs beyond the head. */
export interface EnvironFacts {
  readonly connection: ConnectionFacts;
  readonly mounts: readonly string[];
}

/** The block of CGI variables the master sends the worker for `head` (http-environ.ts buildCgiBlock); null for 400. */
export function cgiBlock(head: RequestHead, bodyLength: number, facts: EnvironFacts): string | null {
  const mounts = new ScriptNameRule(facts.mounts.map((prefix) => ({ prefix, app: '' })));
  return buildCgiBlock(head, facts.connection, bodyLength, new CgiNameCache(), mounts);
}

/** The master's CGI variables for `head` as an object (wsgi.* aside). */
export function cgiEnviron(head: RequestHead, bodyLength: number, facts: EnvironFacts): CgiEnviron {
  const block = cgiBlock(head, bodyLength, facts);
  if (block === null) return { status: 400 };
  const parts = block.split('\0');
  const environ: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) if (!parts[i]!.startsWith('wsgi.')) environ[parts[i]!] = parts[i + 1]!;
  return environ;
}

/** An error's status, the parse, or "incomplete" when more bytes are needed to decide. */
export type Verdict = { readonly status: number } | ParsedVerdict | 'incomplete';

export interface VerdictLimits {
  readonly maxHeadBytes: number;
  readonly maxBodyBytes: number;
}

export function headFields(head: RequestHead): ParsedVerdict {
  const headers: [string, string][] = [];
  let host = '';
  for (let i = 0; i < head.headers.length; i += 2) {
    const name = head.headers[i]!.toLowerCase();
    headers.push([name, head.headers[i + 1]!]);
    if (name === 'host') host = head.headers[i + 1]!;
  }
  const { path, query } = splitTarget(head.target);
  return {
    method: head.method,
    target: head.target,
    path,
    query,
    version: `HTTP/1.${head.versionMinor}`,
    headers,
    framing: head.chunked ? 'chunked' : head.contentLength,
    keep_alive: head.keepAlive,
    expect_continue: head.expectContinue,
    host: absoluteFormAuthority(head.target) ?? host,
  };
}

/**
 * The verdict on the first request of `chunks` fed in order (a whole buffer is one chunk); with
 * `facts`, a parsed verdict also carries the environ.
 */
export function tsVerdict(chunks: readonly Buffer[], limits: VerdictLimits, facts?: EnvironFacts): Verdict {
  let parsed: RequestHead | null = null;
  let head: ParsedVerdict | null = null;
  let verdict: Verdict | null = null;
  const body: Buffer[] = [];
  const parser = new RequestParser(
    {
      onHead: (h) => {
        if (head === null) {
          parsed = h;
          head = headFields(h);
        }
        if (!h.chunked && verdict === null) verdict = facts === undefined ? head : { ...head, environ: cgiEnviron(h, h.contentLength, facts) };
      },
      onBody: (chunk) => {
        if (verdict === null) body.push(Buffer.from(chunk));
      },
      onMessageEnd: () => {
        if (verdict === null && head !== null && parsed !== null) {
          const whole = Buffer.concat(body);
          verdict = { ...head, body: whole.toString('latin1') };
          if (facts !== undefined) verdict = { ...verdict, environ: cgiEnviron(parsed, whole.length, facts) };
        }
      },
      onError: (e) => {
        verdict ??= { status: e.status };
      },
    },
    limits,
  );
  for (const chunk of chunks) {
    if (verdict !== null) break;
    parser.execute(chunk);
  }
  return verdict ?? 'incomplete';
}

/** The master's block for the first request in `bytes` (whole): null for 400, undefined when it is refused or incomplete. */
export function tsCgiBlock(bytes: Buffer, limits: VerdictLimits, facts: EnvironFacts): string | null | undefined {
  let head: RequestHead | null = null;
  let block: string | null | undefined;
  let bodyLength = 0;
  const parser = new RequestParser(
    {
      onHead: (h) => {
        head ??= h;
        if (!h.chunked && block === undefined) block = cgiBlock(h, h.contentLength, facts);
      },
      onBody: (chunk) => {
        bodyLength += chunk.length;
      },
      onMessageEnd: () => {
        if (block === undefined && head !== null) block = cgiBlock(head, bodyLength, facts);
      },
      onError: () => {},
    },
    limits,
  );
  parser.execute(bytes);
  return block;
}

/** `bytes` whole and one byte at a time. */
export function feeds(bytes: Buffer): { whole: Buffer[]; byByte: Buffer[] } {
  const byByte: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) byByte.push(bytes.subarray(i, i + 1));
  return { whole: [bytes], byByte };
}
