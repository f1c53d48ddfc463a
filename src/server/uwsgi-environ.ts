/**
 * Turns the vars of a uwsgi packet (what nginx's `include uwsgi_params` sends) into the CGI
 * block for the worker. nginx already did the HTTP work — PATH_INFO is decoded, headers are
 * HTTP_* — so the vars pass through as they are, with three adjustments:
 *
 * - wsgi.url_scheme: `UWSGI_SCHEME`, else `HTTPS` = on/1, else `REQUEST_SCHEME`, else http.
 * - SCRIPT_NAME: `SCRIPT_NAME` or `UWSGI_SCRIPT_NAME`; stripped from the front of PATH_INFO
 *   for modifier1 30 (uWSGI's meaning of that modifier) or when `manage-script-name` is on;
 *   with `mount`, the mountpoints decide, as for HTTP requests.
 * - CONTENT_LENGTH is the body Berth actually received; `wsgi.*` keys from the peer are dropped
 *   so a packet cannot set the worker's own keys.
 *
 * A NUL inside a var would split the block in the wrong place on the Python side, so such a
 * packet is refused (null).
 */
import type { ExchangeRequest } from './exchange.js';
import type { ScriptNameRule } from './script-name.js';

export interface UwsgiEnvironOptions {
  readonly stripScriptName: boolean;
  readonly scriptNames: ScriptNameRule;
}

export interface UwsgiEnviron {
  readonly block: string;
  readonly method: string;
  readonly target: string;
  readonly scheme: 'http' | 'https';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly versionMinor: 0 | 1;
  /** HTTP_* vars turned back into header pairs, for logs. */
  readonly headers: string[];
}

// nginx forwards the client's framing headers as HTTP_* although it already de-chunked the
// body and set CONTENT_LENGTH: the app must frame by CONTENT_LENGTH only.
// BERTH_KEEPALIVE is a Berth front's keep-alive offer (src/protocol/uwsgi/keepalive-marker.ts):
// for the server, not the app; this path answers it one-shot, without the marker.
const SKIP = new Set(['SCRIPT_NAME', 'PATH_INFO', 'CONTENT_LENGTH', 'UWSGI_SCHEME', 'wsgi.url_scheme', 'HTTP_TRANSFER_ENCODING', 'HTTP_CONTENT_LENGTH', 'BERTH_KEEPALIVE']);

function isOn(v: string | undefined): boolean {
  return v !== undefined && (v.toLowerCase() === 'on' || v === '1');
}

export function buildUwsgiEnviron(vars: readonly string[], contentLength: number, opts: UwsgiEnvironOptions): UwsgiEnviron | null {
  const get = new Map<string, string>();
  for (let i = 0; i < vars.length; i += 2) {
    const k = vars[i]!;
    const v = vars[i + 1]!;
    if (k.indexOf('\0') !== -1 || v.indexOf('\0') !== -1) return null;
    get.set(k, v);
  }
  if (get.size * 2 !== vars.length) joinRepeatedHeaders(vars, get);
  const schemeVar = get.get('UWSGI_SCHEME') ?? (isOn(get.get('HTTPS')) ? 'https' : get.get('REQUEST_SCHEME'));
  const scheme = schemeVar === 'https' ? 'https' : 'http';
  let scriptName = get.get('SCRIPT_NAME') ?? get.get('UWSGI_SCRIPT_NAME') ?? '';
  let pathInfo = get.get('PATH_INFO') ?? '';
  if (opts.scriptNames.active) {
    [scriptName, pathInfo] = opts.scriptNames.split(scriptName + pathInfo);
  } else if (opts.stripScriptName && scriptName !== '' && pathInfo.startsWith(scriptName)) {
    pathInfo = pathInfo.slice(scriptName.length);
  }
  let block = `SCRIPT_NAME\0${scriptName}\0PATH_INFO\0${pathInfo}\0wsgi.url_scheme\0${scheme}`;
  if (contentLength > 0 || get.has('CONTENT_LENGTH')) block += `\0CONTENT_LENGTH\0${contentLength}`;
  const headers: string[] = [];
  for (const [k, v] of get) {
    if (SKIP.has(k) || k.startsWith('wsgi.')) continue;
    block += '\0' + k + '\0' + v;
    if (k.startsWith('HTTP_')) headers.push(k.slice(5).toLowerCase().replace(/_/g, '-'), v);
  }
  if (!get.has('REQUEST_METHOD')) block += '\0REQUEST_METHOD\0GET';
  if (!get.has('QUERY_STRING')) block += '\0QUERY_STRING\0';
  const method = get.get('REQUEST_METHOD') ?? 'GET';
  const query = get.get('QUERY_STRING') ?? '';
  const target = get.get('REQUEST_URI') ?? scriptName + pathInfo + (query !== '' ? `?${query}` : '');
  return {
    block,
    method,
    target,
    scheme,
    remoteAddress: get.get('REMOTE_ADDR') ?? '',
    remotePort: Number(get.get('REMOTE_PORT') ?? 0) || 0,
    versionMinor: get.get('SERVER_PROTOCOL') === 'HTTP/1.0' ? 0 : 1,
    headers,
  };
}

/**
 * A key sent twice: an HTTP_* one is one client field sent on several lines (nginx before 1.23
 * passes each line as its own var), so its values are joined in order as RFC 9110 §5.3 combines
 * field lines — Cookie with "; " (RFC 6265 §5.4), as nginx 1.23+ joins them itself. Any other
 * key is a parameter set twice (`uwsgi_param` after `include uwsgi_params`): the last wins.
 */
function joinRepeatedHeaders(vars: readonly string[], get: Map<string, string>): void {
  const seen = new Set<string>();
  for (let i = 0; i < vars.length; i += 2) {
    const k = vars[i]!;
    if (!k.startsWith('HTTP_')) continue;
    if (seen.has(k)) get.set(k, get.get(k)! + (k === 'HTTP_COOKIE' ? '; ' : ', ') + vars[i + 1]!);
    else {
      seen.add(k);
      get.set(k, vars[i + 1]!);
    }
  }
}

/** The protocol-neutral request an Exchange carries, from a uwsgi packet's environ. */
export function exchangeRequestOf(env: UwsgiEnviron): ExchangeRequest {
  return {
    method: env.method,
    target: env.target,
    versionMinor: env.versionMinor,
    headers: env.headers,
    remoteAddress: env.remoteAddress,
    remotePort: env.remotePort,
    scheme: env.scheme,
  };
}
