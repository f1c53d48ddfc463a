/**
 * Checks that the bytes a server sent back are a sequence of well-formed HTTP/1.x
 * responses (RFC 9112 §4-§7): status line, fields without CR/LF/NUL, a blank line, a body
 * framed by Content-Length, chunked coding or the close. Returns the statuses, or why not.
 */
const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d) [^\r\n\0]*$/;
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n\0]*)$/;

export interface ResponseCheck {
  readonly statuses: readonly number[];
  /** null when well-formed. */
  readonly problem: string | null;
}

export function checkResponses(data: Buffer, closed: boolean, headRequest = false): ResponseCheck {
  const text = data.toString('latin1');
  const statuses: number[] = [];
  let pos = 0;
  while (pos < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return { statuses, problem: `response ${statuses.length + 1}: no end of head in ${JSON.stringify(text.slice(pos, pos + 120))}` };
    const lines = text.slice(pos, headEnd).split('\r\n');
    const status = STATUS_LINE.exec(lines[0]!);
    if (status === null) return { statuses, problem: `bad status line ${JSON.stringify(lines[0]!.slice(0, 120))}` };
    const code = Number(status[1]);
    statuses.push(code);
    let length = -1;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const field = FIELD.exec(line);
      if (field === null) return { statuses, problem: `bad field line ${JSON.stringify(line.slice(0, 120))} in a ${code}` };
      const name = field[1]!.toLowerCase();
      if (name === 'content-length') {
        if (length !== -1 || !/^\d+$/.test(field[2]!.trim())) return { statuses, problem: `bad or repeated Content-Length in a ${code}` };
        length = Number(field[2]!.trim());
      } else if (name === 'transfer-encoding') {
        chunked = /(^|,)\s*chunked\s*$/i.test(field[2]!);
      }
    }
    pos = headEnd + 4;
    if (code < 200 || code === 204 || code === 304 || headRequest) {
      if (code < 200) statuses.pop();
      continue;
    }
    if (chunked) {
      for (;;) {
        const sizeEnd = text.indexOf('\r\n', pos);
        if (sizeEnd < 0) return { statuses, problem: `chunked ${code}: cut inside a chunk size line` };
        const size = Number.parseInt(text.slice(pos, sizeEnd).split(';')[0]!, 16);
        if (!Number.isFinite(size)) return { statuses, problem: `chunked ${code}: bad chunk size` };
        pos = sizeEnd + 2;
        if (size === 0) {
          const end = text.indexOf('\r\n\r\n', pos - 2);
          if (end < 0) return { statuses, problem: `chunked ${code}: no end after the last chunk` };
          pos = end + 4;
          break;
        }
        if (text.slice(pos + size, pos + size + 2) !== '\r\n') return { statuses, problem: `chunked ${code}: chunk of ${size} bytes cut or not followed by CRLF` };
        pos += size + 2;
      }
    } else if (length >= 0) {
      if (text.length - pos < length) return { statuses, problem: `${code}: Content-Length ${length} but ${text.length - pos} bytes came` };
      pos += length;
    } else {
      // Delimited by the close: only the last response may be, and the connection must end.
      if (!closed) return { statuses, problem: `${code} without framing on a connection left open` };
      pos = text.length;
    }
  }
  return { statuses, problem: null };
}
