/** Makes the transport for a backend from its URL's scheme: http:// → keep-alive HTTP client, uwsgi:// → the uwsgi client. */
import type { BackendSpec } from '../config/schema.js';
import { HttpUpstream } from './http-upstream.js';
import type { Transport } from './transport.js';
import type { Backend } from './upstream.js';
import { UwsgiUpstream } from './uwsgi-upstream.js';

export type Transports = Map<Backend, Transport>;

export function makeTransport(spec: BackendSpec, connectTimeoutMs: number): Transport {
  return spec.protocol === 'http' ? new HttpUpstream(spec, connectTimeoutMs) : new UwsgiUpstream(spec);
}
