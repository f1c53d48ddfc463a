/**
 * A certificate subject as uWSGI passes it in HTTPS_DN: OpenSSL's one-line form,
 * `/C=IT/O=Example, Inc./CN=client` — each RDN after a '/', a multi-valued RDN's attributes
 * joined by '+', '/' and '+' in a value backslash-escaped, bytes outside printable ASCII (UTF-8
 * included) written \xHH, and nothing else escaped (OpenSSL 3's X509_NAME_oneline). Node's X509Certificate.subject is
 * RFC 2253-escaped, one RDN a line and a multi-valued RDN's attributes joined by " + "; this
 * turns the one into the other, so an app that parsed uWSGI's HTTPS_DN reads Berth's the same.
 */

/** Undoes RFC 2253 escapes: `\,` and friends to the character, `\HH` to the byte. */
function unescape2253(value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch === '\\' && i + 1 < value.length) {
      bytes.push(...Buffer.from(value[++i]!, 'utf8'));
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function oneLineValue(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e) out += '\\x' + b.toString(16).toUpperCase().padStart(2, '0');
    else out += (b === 0x2f || b === 0x2b ? '\\' : '') + String.fromCharCode(b);
  }
  return out;
}

/** `subject` as node:crypto's X509Certificate gives it; the result is ASCII. */
export function oneLineDn(subject: string): string {
  let out = '';
  for (const rdn of subject.split('\n')) {
    if (rdn === '') continue;
    // An unescaped " + " separates a multi-valued RDN's attributes ('+' in a value is "\+").
    const attrs = rdn.split(/(?<!\\) \+ /).map((attr) => {
      const eq = attr.indexOf('=');
      return attr.slice(0, eq) + '=' + oneLineValue(unescape2253(attr.slice(eq + 1)));
    });
    out += '/' + attrs.join('+');
  }
  return out;
}
