/**
 * Valid requests the fuzzers mutate: HTTP/1.1 messages and uwsgi packets. Each carries its
 * input id (query `fz=<id>` and the X-Fuzz header / HTTP_X_FUZZ var), so the recording app
 * (test/fixtures/apps/fuzz_record.py) can say which input reached it.
 */
import type { Prng } from './prng.js';

function httpRequests(id: number): string[] {
  const q = `fz=${id}`;
  return [
    `GET /a?${q} HTTP/1.1\r\nHost: x\r\nX-Fuzz: ${id}\r\n\r\n`,
    `POST /form?${q} HTTP/1.1\r\nHost: x\r\nX-Fuzz: ${id}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2`,
    `POST /chunk?${q} HTTP/1.1\r\nHost: x\r\nX-Fuzz: ${id}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n`,
    `GET /p%20q/r?${q} HTTP/1.0\r\nHost: x\r\nX-Fuzz: ${id}\r\nConnection: keep-alive\r\n\r\n`,
    `GET /one?${q} HTTP/1.1\r\nHost: x\r\nX-Fuzz: ${id}\r\n\r\nPUT /two?${q} HTTP/1.1\r\nHost: x\r\nX-Fuzz: ${id}\r\nContent-Length: 3\r\n\r\nabcGET /three?${q} HTTP/1.1\r\nHost: x\r\nX-Fuzz: ${id}\r\nConnection: close\r\n\r\n`,
    `DELETE /d?${q} HTTP/1.1\r\nHost: example.test:8080\r\nX-Fuzz: ${id}\r\nCookie: a=b; c=d\r\nUser-Agent: fuzz/1.0\r\nAccept: */*\r\n\r\n`,
  ];
}

/** One uwsgi vars block + body as nginx's `include uwsgi_params` would send them. */
function uwsgiVars(id: number, rng: Prng): { vars: [string, string][]; body: string } {
  const body = rng.pick(['', 'hello', 'a=1&b=2', 'x'.repeat(300)]);
  const method = body === '' ? rng.pick(['GET', 'DELETE', 'OPTIONS']) : rng.pick(['POST', 'PUT', 'PATCH']);
  const path = rng.pick(['/u', '/a/b', '/caf%C3%A9', '/']);
  const query = `fz=${id}`;
  return {
    body,
    vars: [
      ['QUERY_STRING', query],
      ['REQUEST_METHOD', method],
      ['CONTENT_TYPE', body === '' ? '' : 'application/octet-stream'],
      ['CONTENT_LENGTH', body === '' ? '' : String(body.length)],
      ['REQUEST_URI', `${path}?${query}`],
      ['PATH_INFO', path],
      ['DOCUMENT_ROOT', '/srv'],
      ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['REQUEST_SCHEME', 'http'],
      ['REMOTE_ADDR', '127.0.0.1'],
      ['REMOTE_PORT', '40000'],
      ['SERVER_PORT', '80'],
      ['SERVER_NAME', 'example.test'],
      ['HTTP_HOST', 'example.test'],
      ['HTTP_X_FUZZ', String(id)],
      ['HTTP_USER_AGENT', 'fuzz/1.0'],
    ],
  };
}

export function encodeUwsgi(vars: readonly (readonly [string, string])[], body: string, modifier1 = 0): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of vars) {
    const key = Buffer.from(k, 'latin1');
    const value = Buffer.from(v, 'latin1');
    const kl = Buffer.alloc(2);
    kl.writeUInt16LE(key.length & 0xffff);
    const vl = Buffer.alloc(2);
    vl.writeUInt16LE(value.length & 0xffff);
    parts.push(kl, key, vl, value);
  }
  const block = Buffer.concat(parts);
  const head = Buffer.from([modifier1, block.length & 0xff, (block.length >> 8) & 0xff, 0]);
  return Buffer.concat([head, block, Buffer.from(body, 'latin1')]);
}

/** Header lines that duplicate or contradict the framing, the host or the connection. */
const HTTP_EXTRA_FIELDS = ['Content-Length: 5', 'Content-Length: 007', 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity', 'Host: y', 'Host: a:b:c', 'Connection: close', 'Expect: 100-continue', 'X-Fuzz: 0'];

export function validHttpRequest(id: number, rng: Prng): { bytes: Buffer; tweak: string | null } {
  let text = rng.pick(httpRequests(id));
  let tweak: string | null = null;
  if (rng.below(4) === 0) {
    tweak = rng.pick(HTTP_EXTRA_FIELDS);
    const lineEnd = text.indexOf('\r\n') + 2;
    text = `${text.slice(0, lineEnd)}${tweak}\r\n${text.slice(lineEnd)}`;
  }
  return { bytes: Buffer.from(text, 'latin1'), tweak: tweak === null ? null : `field ${JSON.stringify(tweak)}` };
}

/**
 * A valid uwsgi packet; sometimes with var-level changes that keep it well-formed as bytes
 * but give it duplicated or conflicting vars, CR/LF or high bytes in values, or a huge
 * CONTENT_LENGTH (the byte-level mutations come after, in mutate.ts).
 */
export function validUwsgiPacket(id: number, rng: Prng): { bytes: Buffer; tweak: string | null } {
  const { vars, body } = uwsgiVars(id, rng);
  let tweak: [string, string] | null = null;
  switch (rng.below(8)) {
    case 0:
      tweak = [vars[rng.below(vars.length)]![0], rng.pick(['', 'other', '\r\n[pid: 1|forged] x', '\xff\x80', '99'])];
      vars.push(tweak);
      break;
    case 1:
      tweak = ['CONTENT_LENGTH', rng.pick(['0', '5', '18446744073709551616', '-1', ' 5', '5,5', '0x5'])];
      vars.push(tweak);
      break;
    case 2: {
      const i = rng.below(vars.length);
      tweak = [vars[i]![0], `${vars[i]![1]}${rng.pick(['\r\n', '\n', '\r', '\0', '\xe9\xff'])}tail`];
      vars[i] = tweak;
      break;
    }
    case 3:
      tweak = [rng.pick(['HTTP_X\r\nY', 'HTTP_\0', 'h\xffk', 'X'.repeat(300)]), 'v'];
      vars.push(tweak);
      break;
    default:
      break;
  }
  return { bytes: encodeUwsgi(vars, body), tweak: tweak === null ? null : `var ${JSON.stringify(tweak[0])}=${JSON.stringify(tweak[1])}` };
}
