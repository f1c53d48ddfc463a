/** The key a hashing policy balances on: the client address (ip-hash) or nginx's `hash KEY` with its variables expanded. */
import type { ExchangeRequest } from '../server/exchange.js';
import type { BalanceSpec } from './balance/balancer.js';

/** The request's value of one nginx variable, '' when it has none (as nginx does). */
function variable(name: string, req: ExchangeRequest): string {
  const q = req.target.indexOf('?');
  const header = (wanted: string): string => {
    for (let i = 0; i + 1 < req.headers.length; i += 2) if (req.headers[i]!.toLowerCase().replace(/-/g, '_') === wanted) return req.headers[i + 1]!;
    return '';
  };
  switch (name) {
    case 'remote_addr': case 'binary_remote_addr': return req.remoteAddress;
    case 'request_uri': return req.target;
    case 'uri': return q === -1 ? req.target : req.target.slice(0, q);
    case 'args': case 'query_string': return q === -1 ? '' : req.target.slice(q + 1);
    case 'host': return header('host').replace(/:\d+$/, '').toLowerCase();
    case 'request_method': return req.method;
    case 'scheme': return req.scheme;
  }
  if (name.startsWith('http_')) return header(name.slice(5));
  if (name.startsWith('cookie_')) {
    const m = new RegExp(`(?:^|;\\s*)${name.slice(7).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}=([^;]*)`).exec(header('cookie'));
    return m?.[1] ?? '';
  }
  if (name.startsWith('arg_')) {
    const args = q === -1 ? '' : req.target.slice(q + 1);
    for (const pair of args.split('&')) if (pair.split('=')[0] === name.slice(4)) return pair.slice(name.length - 3);
    return '';
  }
  return '';
}

/** null for the policies that take no key. */
export function balanceKey(spec: BalanceSpec, req: ExchangeRequest): string | null {
  if (spec.kind === 'ip-hash') return req.remoteAddress;
  if (spec.kind !== 'hash') return null;
  return spec.key.replace(/\$\{?([a-z_][a-z0-9_]*)\}?/gi, (_m, n: string) => variable(n.toLowerCase(), req));
}
