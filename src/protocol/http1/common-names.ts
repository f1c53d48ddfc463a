/**
 * Interned strings for the methods and field names most requests carry, so a head's parse
 * takes one shared string for them instead of slicing a new one each time (per-request
 * allocation on the master's hot path). The match is exact, byte for byte and case included:
 * a name in any other spelling is sliced as before, so what the front sees never changes.
 */

/** By length: the interned strings of that length, each with its bytes. */
type Table = readonly (readonly { readonly text: string; readonly bytes: Buffer }[] | undefined)[];

function tableOf(words: readonly string[]): Table {
  const table: { text: string; bytes: Buffer }[][] = [];
  for (const text of words) (table[text.length] ??= []).push({ text, bytes: Buffer.from(text, 'latin1') });
  return table;
}

const METHODS = tableOf(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

const FIELD_NAMES = tableOf([
  'Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Connection', 'Cookie',
  'Referer', 'Origin', 'Content-Type', 'Content-Length', 'Cache-Control', 'Pragma', 'Authorization',
  'If-None-Match', 'If-Modified-Since', 'Upgrade-Insecure-Requests', 'X-Forwarded-For',
  'X-Forwarded-Proto', 'X-Real-IP', 'X-Requested-With', 'Sec-Fetch-Dest', 'Sec-Fetch-Mode',
  'Sec-Fetch-Site', 'Sec-Fetch-User', 'Priority', 'DNT', 'Range', 'Transfer-Encoding', 'Expect',
  // lowercase, as HTTP/2-minded clients and most load tools send them
  'host', 'user-agent', 'accept', 'accept-encoding', 'connection', 'content-type', 'content-length',
]);

function lookup(table: Table, buf: Buffer, start: number, end: number): string | null {
  const candidates = table[end - start];
  if (candidates === undefined) return null;
  for (const c of candidates) {
    const bytes = c.bytes;
    let i = 0;
    while (i < bytes.length && buf[start + i] === bytes[i]) i++;
    if (i === bytes.length) return c.text;
  }
  return null;
}

/** The interned method spelled by buf[start, end), or null. */
export function commonMethod(buf: Buffer, start: number, end: number): string | null {
  return lookup(METHODS, buf, start, end);
}

/** The interned field name spelled by buf[start, end), or null. */
export function commonFieldName(buf: Buffer, start: number, end: number): string | null {
  return lookup(FIELD_NAMES, buf, start, end);
}
