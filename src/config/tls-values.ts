/** The TLS part of the Config: the ssl-* settings, and each TLS listener's files checked at load (and so by `berth check` and a reload). */
import type { Assigned, Value } from './map.js';
import type { ConfigField } from './option-spec.js';
import { problemAt, type Problem } from './problem.js';
import type { Config, ListenAddress } from './schema.js';
import { loadTlsMaterial, type TlsTuning } from './tls-address.js';

export type TlsConfig = Pick<Config, 'sslVerbose' | 'sslEnableTlsv1' | 'sslSessionTimeoutMs' | 'sslOptions' | 'httpsExportCert'>;

/** What every TLS listener's context is built with, from the Config. */
export function tlsTuningOf(c: TlsConfig): TlsTuning {
  // `|` on numbers cuts them to 32 bits; SSL_OP_* values reach bit 31 and above.
  let bits = 0n;
  for (const o of c.sslOptions) bits |= BigInt(o);
  return { enableTlsv1: c.sslEnableTlsv1, sessionTimeoutMs: c.sslSessionTimeoutMs, secureOptions: Number(bits) };
}

export function buildTls(
  listeners: readonly Assigned[],
  all: (f: ConfigField) => readonly Assigned[],
  valueOf: <T extends Value>(f: ConfigField) => T,
  problems: Problem[],
): TlsConfig {
  const tls: TlsConfig = {
    sslVerbose: valueOf<boolean>('sslVerbose'),
    sslEnableTlsv1: valueOf<boolean>('sslEnableTlsv1'),
    sslSessionTimeoutMs: valueOf<number>('sslSessionTimeoutMs'),
    sslOptions: Object.freeze(all('sslOptions').map((a) => a.value as number)),
    httpsExportCert: valueOf<boolean>('httpsExportCert'),
  };
  const tuning = tlsTuningOf(tls);
  for (const a of listeners) {
    const spec = (a.value as ListenAddress).tls;
    if (spec === undefined) continue;
    const material = loadTlsMaterial(spec, tuning);
    if (!material.ok) problems.push(problemAt(a.source, { code: 'tls-material', option: a.written, message: `${a.written} ${(a.value as ListenAddress).text}: ${material.message}`, fix: material.fix }));
  }
  return tls;
}
