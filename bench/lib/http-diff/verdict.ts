/**
 * What the master's HTTP codec says about the first request in some bytes, in the shape the
 * Python parser's verdict has (test/python/http_verdict.py): the rulebook table and the
 * differential fuzz compare the two languages through it.
 */
import { RequestParser } from '../../../src/protocol/http1/request-parser.js';
import { absoluteFormAuthority } from '../../../src/protocol/http1/target.js';
import type { RequestHead } from '../../../src/protocol/http1/types.js';
import { splitTarget } from '../../../src/server/http-environ.js';

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

/** The verdict on the first request of `chunks` fed in order (a whole buffer is one chunk). */
export function tsVerdict(chunks: readonly Buffer[], limits: VerdictLimits): Verdict {
  let head: ParsedVerdict | null = null;
  let verdict: Verdict | null = null;
  const body: Buffer[] = [];
  const parser = new RequestParser(
    {
      onHead: (h) => {
        head ??= headFields(h);
        if (!h.chunked && verdict === null) verdict = head;
      },
      onBody: (chunk) => {
        if (verdict === null) body.push(Buffer.from(chunk));
      },
      onMessageEnd: () => {
        if (verdict === null && head !== null) verdict = { ...head, body: Buffer.concat(body).toString('latin1') };
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

/** `bytes` whole and one byte at a time. */
export function feeds(bytes: Buffer): { whole: Buffer[]; byByte: Buffer[] } {
  const byByte: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) byByte.push(bytes.subarray(i, i + 1));
  return { whole: [bytes], byByte };
}
