import type { FailureKind, OutgoingRequest, Transport } from '../../src/proxy/transport.js';

export type Outcome = { status: number; headers: readonly string[]; body: string } | { failed: FailureKind; sent: boolean; message: string };

/** One request through a transport, settled as the response (body read whole) or the failure. */
export function send(upstream: Transport, out: OutgoingRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    let status = 0;
    let headers: readonly string[] = [];
    let text = '';
    upstream.send(out, {
      head: (s, _reason, h) => { status = s; headers = h; },
      body: (chunk, resume) => { text += chunk.toString('latin1'); resume(); },
      readDone: () => undefined,
      end: () => resolve({ status, headers, body: text }),
      fail: (kind, sent, message) => resolve({ failed: kind, sent, message }),
    });
  });
}
