/**
 * Small readers of an Exchange's request for the log: a header by name, a CGI variable from the
 * "KEY\0VALUE\0…" block, the variable count. They walk the data in place (no regex, no Map, no
 * split) because they run per request, and only for the fields a log format asks for.
 */

/**
 * The first value of a header in a flat [name, value, …] list; `lowerName` must be lower case.
 * Names are compared without allocating a lowered copy.
 */
export function headerValue(headers: readonly string[], lowerName: string): string {
  const len = lowerName.length;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== len) continue;
    let same = true;
    for (let j = 0; j < len; j++) {
      let c = name.charCodeAt(j);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== lowerName.charCodeAt(j)) {
        same = false;
        break;
      }
    }
    if (same) return headers[i + 1]!;
  }
  return '';
}

/**
 * A CGI variable's value, '' when absent. Walks key/value pairs, so a value that happens to
 * spell a variable name is never mistaken for a key.
 */
export function cgiValue(block: string, name: string): string {
  let pos = 0;
  const end = block.length;
  while (pos < end) {
    const keyEnd = block.indexOf('\0', pos);
    if (keyEnd === -1) return '';
    const valueEnd = block.indexOf('\0', keyEnd + 1);
    const stop = valueEnd === -1 ? end : valueEnd;
    if (keyEnd - pos === name.length && block.startsWith(name, pos)) return block.slice(keyEnd + 1, stop);
    pos = stop + 1;
  }
  return '';
}

/** SERVER_PROTOCOL as the front or nginx gave it (HTTP/2.0 behind nginx), else the parsed version. */
export function serverProtocol(block: string, versionMinor: 0 | 1): string {
  const p = cgiValue(block, 'SERVER_PROTOCOL');
  return p !== '' ? p : versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
}

/** How many variables the block carries (uWSGI's "{N vars in M bytes}"). */
export function countVars(block: string): number {
  let n = 0;
  for (let i = block.indexOf('\0'); i !== -1; i = block.indexOf('\0', i + 1)) n++;
  return (n + 1) >> 1;
}
