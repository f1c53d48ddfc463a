/**
 * uWSGI's `https2` value: the https listener's fields as `key=value` items, comma-separated
 * (`addr=:8443,cert=site.crt,key=site.key[,ciphers=…][,clientca=[!]ca.crt]`). As in uWSGI a
 * backslash escapes a comma or '='; `crt` and `client_ca` are spellings of `cert` and `clientca`,
 * and `spdy` is read and ignored (browsers dropped SPDY; clients get HTTP/1.1). Unlike uWSGI,
 * which skips a key it does not know, an unknown key is refused: it is a typo the listener
 * would otherwise run without.
 */
import type { ListenAddress } from './schema.js';
import { tlsListenAddress, type TlsFields } from './tls-address.js';
import type { Parsed } from './units.js';

const SHAPE = 'write addr=ADDRESS,cert=CERT,key=KEY — for example https2 = addr=:8443,cert=/etc/ssl/site.crt,key=/etc/ssl/site.key (optionally ,ciphers=LIST,clientca=[!]CA)';

const FIELD_OF: Readonly<Record<string, keyof TlsFields | null>> = {
  addr: 'address', cert: 'cert', crt: 'cert', key: 'key', ciphers: 'ciphers', clientca: 'clientCa', client_ca: 'clientCa', spdy: null,
};

/** Splits on `sep` outside backslash escapes, dropping the escapes (uWSGI's kvlist rule). */
function splitEscaped(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) cur += text[++i]!;
    else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

export function parseTlsKeyval(raw: string, cwd: string): Parsed<ListenAddress> {
  const fields: Record<keyof TlsFields, string> = { address: '', cert: '', key: '', ciphers: '', clientCa: '' };
  for (const item of splitEscaped(raw, ',')) {
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim();
    if (!(name in FIELD_OF)) {
      return { ok: false, message: `'${item.trim()}' in '${raw.trim()}' is not one of addr, cert (crt), key, ciphers, clientca (client_ca), spdy`, fix: SHAPE };
    }
    const field = FIELD_OF[name];
    if (field !== null && field !== undefined) fields[field] = eq < 0 ? '' : item.slice(eq + 1).trim();
  }
  const missing = (['address', 'cert', 'key'] as const).filter((f) => fields[f] === '');
  if (missing.length > 0) {
    const names = missing.map((f) => (f === 'address' ? 'addr' : f));
    return { ok: false, message: `'${raw.trim()}' has no ${names.join(', ')} (https2 needs addr, cert and key)`, fix: SHAPE };
  }
  return tlsListenAddress(raw, fields, cwd, SHAPE);
}
