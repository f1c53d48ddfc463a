/**
 * What Berth's own TypeScript codecs say about an input, run in-process on the same bytes
 * the server gets: the reference the fuzz oracles compare the live servers against.
 */
import { RequestParser } from '../../../src/protocol/http1/request-parser.js';
import { UwsgiRequestParser } from '../../../src/protocol/uwsgi/request-parser.js';
import { sniffProtocol } from '../../../src/protocol/uwsgi/sniff.js';
import { SNIFF_LIMIT } from '../../../src/server/front-door.js';

export interface Limits {
  /** buffer-size: the head (HTTP) or vars block (uwsgi) budget. */
  readonly headBytes: number;
  /** limit-post; 0 = unlimited. */
  readonly bodyBytes: number;
}

export interface HttpVerdict {
  /** Messages that ended (head and body complete) before any error: the most the app may see. */
  readonly complete: number;
  readonly methods: readonly string[];
  /** The parser's error, if the bytes broke the protocol at some point. */
  readonly error: string | null;
}

export function httpVerdict(bytes: Buffer, limits: Limits): HttpVerdict {
  const methods: string[] = [];
  let pending = '';
  let complete = 0;
  let error: string | null = null;
  const parser = new RequestParser(
    {
      onHead: (head) => void (pending = head.method),
      onBody: () => undefined,
      onMessageEnd: () => {
        complete++;
        methods.push(pending);
      },
      onError: (e) => void (error ??= `${e.status} ${e.message}`),
    },
    { maxHeadBytes: limits.headBytes, maxBodyBytes: limits.bodyBytes },
  );
  parser.execute(bytes);
  parser.finish();
  return { complete, methods, error };
}

/**
 * complete: a whole packet and nothing after it; trailing: a whole packet, then bytes;
 * truncated-body: a whole head, then the peer closed before CONTENT_LENGTH bytes came;
 * rejected: anything else the parser refuses (a bad head, a limit, a truncated head).
 */
export type UwsgiVerdictKind = 'complete' | 'trailing' | 'truncated-body' | 'rejected';

export interface UwsgiVerdict {
  readonly kind: UwsgiVerdictKind;
  readonly method: string | null;
  readonly error: string | null;
}

export function uwsgiVerdict(bytes: Buffer, limits: Limits): UwsgiVerdict {
  let ended = false;
  let headSeen = false;
  let method: string | null = null;
  let error: { reason: string; message: string } | null = null;
  const parser = new UwsgiRequestParser(
    {
      onHead: (head) => {
        headSeen = true;
        for (let i = 0; i < head.vars.length; i += 2) if (head.vars[i] === 'REQUEST_METHOD') method = head.vars[i + 1] as string;
      },
      onBody: () => undefined,
      onMessageEnd: () => void (ended = true),
      onError: (e) => void (error ??= { reason: e.reason, message: e.message }),
    },
    { maxVarsBytes: Math.min(limits.headBytes, 65535), maxBodyBytes: limits.bodyBytes },
  );
  parser.execute(bytes);
  parser.finish();
  const err = error as { reason: string; message: string } | null;
  const text = err === null ? null : `${err.reason}: ${err.message}`;
  if (ended) return { kind: err === null ? 'complete' : 'trailing', method, error: text };
  if (headSeen && err?.reason === 'truncated') return { kind: 'truncated-body', method, error: text };
  return { kind: 'rejected', method, error: text };
}

/** How a front that sniffs its first bytes (an `http` port) takes the input. */
export function sniffed(bytes: Buffer): ReturnType<typeof sniffProtocol> {
  return sniffProtocol(bytes.subarray(0, SNIFF_LIMIT));
}
