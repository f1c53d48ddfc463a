/**
 * TLS listener values as uWSGI writes them — `ADDR,CERT,KEY[,CIPHERS[,CLIENT_CA]]` for `https`,
 * `https-socket` and `ssl-socket` — and the check that the files make a working server identity.
 *
 * CLIENT_CA follows uWSGI (core/ssl.c): a CA file asks clients for a certificate and refuses one
 * that does not verify; a leading `!` also refuses clients that send none. An empty CIPHERS
 * field keeps Node's default list.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { parseAddress } from './address.js';
import type { ListenAddress, TlsSpec } from './schema.js';
import type { Parsed } from './units.js';

/**
 * node:tls (and with it node:crypto), loaded at the first TLS listener: a master without one never
 * pays its memory (issue 16 item 5 counts the master's PSS against a bare Node's).
 */
const loadTls = (): typeof import('node:tls') => createRequire(import.meta.url)('node:tls') as typeof import('node:tls');

const SHAPE = 'write ADDRESS,CERT,KEY — for example https = :8443,/etc/ssl/site.crt,/etc/ssl/site.key (optionally ,CIPHERS,CLIENT_CA)';

export function parseTlsAddress(raw: string, cwd: string): Parsed<ListenAddress> {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length < 3 || parts.length > 5) {
    return { ok: false, message: `'${raw.trim()}' is not ADDRESS,CERT,KEY[,CIPHERS[,CLIENT_CA]] (${parts.length} field${parts.length === 1 ? '' : 's'})`, fix: SHAPE };
  }
  const [address = '', cert = '', key = '', ciphers = '', clientCa = ''] = parts;
  return tlsListenAddress(raw, { address, cert, key, ciphers, clientCa }, cwd, SHAPE);
}

/** The fields of one TLS listener, however the option wrote them ('' for one left out). */
export interface TlsFields {
  readonly address: string;
  readonly cert: string;
  readonly key: string;
  readonly ciphers: string;
  /** A CA file, `!` first when clients must send a certificate. */
  readonly clientCa: string;
}

/** The listener the fields describe, paths resolved against `cwd`; `shape` is the fix for a missing file field. */
export function tlsListenAddress(raw: string, f: TlsFields, cwd: string, shape: string): Parsed<ListenAddress> {
  const address = parseAddress(f.address, cwd);
  if (!address.ok) return address;
  if (f.cert === '' || f.key === '') return { ok: false, message: `'${raw.trim()}' has an empty ${f.cert === '' ? 'certificate' : 'key'} field`, fix: shape };
  const required = f.clientCa.startsWith('!');
  const caPath = required ? f.clientCa.slice(1) : f.clientCa;
  if (required && caPath === '') return { ok: false, message: `'${raw.trim()}': '!' must be followed by the client CA file`, fix: 'write !/path/to/clients-ca.pem to require client certificates, or the file alone to verify those sent' };
  const tls: TlsSpec = {
    cert: path.resolve(cwd, f.cert),
    key: path.resolve(cwd, f.key),
    ciphers: f.ciphers === '' ? null : f.ciphers,
    clientCa: caPath === '' ? null : path.resolve(cwd, caPath),
    clientCertRequired: required,
  };
  return { ok: true, value: { ...address.value, tls } };
}

/** The settings every TLS listener shares (ssl-* options), beside what its own line says. */
export interface TlsTuning {
  readonly enableTlsv1: boolean;
  readonly sessionTimeoutMs: number;
  /** ssl-option: raw OpenSSL SSL_OP_* numbers, or-ed together. */
  readonly secureOptions: number;
}

/** `options` built a context once already: a server made or renewed with them will not throw. */
export type TlsMaterial = { readonly ok: true; readonly options: SecureContextOptions } | { readonly ok: false; readonly message: string; readonly fix: string };

/** Reads the files and builds the context a TLS listener serves with; a failure names the file and the fix. */
export function loadTlsMaterial(spec: TlsSpec, tuning: TlsTuning): TlsMaterial {
  const files: [string, string][] = [['certificate', spec.cert], ['key', spec.key]];
  if (spec.clientCa !== null) files.push(['client CA', spec.clientCa]);
  const read = new Map<string, Buffer>();
  for (const [what, file] of files) {
    try {
      read.set(what, readFileSync(file));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? "is not readable by Berth's user" : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      return { ok: false, message: `the ${what} file ${file} ${why}`, fix: `point the ${what} field at a PEM file Berth can read (before it drops privileges), or create it` };
    }
  }
  const options: SecureContextOptions = {
    cert: read.get('certificate'),
    key: read.get('key'),
    ...(spec.ciphers !== null ? { ciphers: spec.ciphers } : {}),
    ...(spec.clientCa !== null ? { ca: read.get('client CA') } : {}),
    minVersion: tuning.enableTlsv1 ? 'TLSv1' : 'TLSv1.2',
    sessionTimeout: Math.max(1, Math.round(tuning.sessionTimeoutMs / 1000)),
    ...(tuning.secureOptions !== 0 ? { secureOptions: tuning.secureOptions } : {}),
  };
  try {
    loadTls().createSecureContext(options);
    return { ok: true, options };
  } catch (err) {
    return explainContextError(spec, err as Error);
  }
}

function explainContextError(spec: TlsSpec, err: Error): TlsMaterial {
  const m = err.message;
  if (/key values mismatch/i.test(m)) return { ok: false, message: `the key ${spec.key} does not belong to the certificate ${spec.cert}`, fix: 'give the key the certificate was issued for (openssl x509 -noout -pubkey -in CERT and openssl pkey -pubout -in KEY must print the same key)' };
  if (/no start line|PEM|bad base64|ASN1|DECODER/i.test(m) && /key/i.test(m)) return { ok: false, message: `the key ${spec.key} is not a PEM private key (${m})`, fix: 'give an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----); decrypt one with openssl pkey -in KEY -out KEY.plain' };
  if (/no start line|PEM|bad base64|ASN1|DECODER/i.test(m)) return { ok: false, message: `the certificate ${spec.cert} (or client CA) is not PEM (${m})`, fix: 'give PEM files (-----BEGIN CERTIFICATE-----); convert DER with openssl x509 -inform der -in CERT -out CERT.pem' };
  if (/cipher/i.test(m)) return { ok: false, message: `the cipher list '${spec.ciphers ?? ''}' selects no cipher (${m})`, fix: "write an OpenSSL cipher list such as 'HIGH:!aNULL:!MD5', or leave the field empty for Node's default" };
  if (/passphrase|bad decrypt/i.test(m)) return { ok: false, message: `the key ${spec.key} is encrypted with a passphrase`, fix: 'Berth cannot ask for a passphrase: decrypt it with openssl pkey -in KEY -out KEY.plain (mode 600)' };
  return { ok: false, message: `the certificate ${spec.cert} and key ${spec.key} cannot serve TLS: ${m}`, fix: 'check both are PEM files of one key pair' };
}
