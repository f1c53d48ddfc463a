/**
 * A response head and a short body joined into one buffer, so that one write() sends both
 * (two writes would cost two system calls and, with Nagle off, two TCP segments).
 *
 * For a body that is shared and never changes (a cached static file), the joined bytes are
 * kept beside it and sent again as long as the head is the same string (the Date header
 * changes it once a second): a hot 10 KiB file then costs no fresh buffer and no copy per
 * request. Kept in a WeakMap, the joined copy lives exactly as long as the cached body.
 */

/** Bodies up to this size are joined to their head; longer ones are written after it. */
export const JOIN_LIMIT = 16384;

export function joinHeadAndBody(head: string, body: Buffer): Buffer {
  const headLen = Buffer.byteLength(head, 'latin1');
  const buf = Buffer.allocUnsafe(headLen + body.length);
  buf.write(head, 0, 'latin1');
  body.copy(buf, headLen);
  return buf;
}

export class JoinedResponses {
  readonly #byBody = new WeakMap<Buffer, { readonly head: string; readonly bytes: Buffer }>();

  /** head + body; the same Buffer as last time when `body` and `head` are unchanged. */
  join(head: string, body: Buffer): Buffer {
    const kept = this.#byBody.get(body);
    if (kept !== undefined && kept.head === head) return kept.bytes;
    const bytes = joinHeadAndBody(head, body);
    this.#byBody.set(body, { head, bytes });
    return bytes;
  }
}
