/**
 * Listener addresses as uWSGI writes them: `:8000` (every interface), `0.0.0.0:8000`,
 * `127.0.0.1:8000`, `localhost:8000`, `[::1]:8000`, or a unix socket path (anything with a
 * '/' or ending in `.sock`, resolved against the current directory).
 */
import path from 'node:path';
import type { ListenAddress } from './schema.js';
import type { Parsed } from './units.js';

const HOST = /^[A-Za-z0-9.-]+$/;

export function parseAddress(text: string, cwd: string): Parsed<ListenAddress> {
  const t = text.trim();
  const fix = "write ':8000' (every interface), '127.0.0.1:8000', '[::1]:8000' or a unix socket path such as /run/app.sock";
  if (t === '') return { ok: false, message: 'the address is empty', fix };
  // uWSGI's '=N' names the Nth shared-socket, bound before privileges drop; Berth binds every listener then.
  if (/^=\d+$/.test(t)) return { ok: false, message: `'${t}' refers to uWSGI's shared-socket number ${t.slice(1)}, and Berth reads shared-socket as a socket listener of its own`, fix: 'write that shared-socket\'s address here instead (Berth binds every listener before it drops privileges, so ports below 1024 work), and remove the shared-socket line if only this option used it' };
  if (t.includes('/') || t.endsWith('.sock')) {
    const p = path.resolve(cwd, t);
    return { ok: true, value: { kind: 'unix', path: p, text: p } };
  }
  let host: string;
  let portText: string;
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(.*)$/.exec(t);
  if (v6) {
    host = v6[1] ?? '';
    portText = v6[2] ?? '';
  } else {
    const colon = t.lastIndexOf(':');
    if (colon < 0) {
      const hint = /^\d+$/.test(t) ? `write ':${t}' for every interface or '127.0.0.1:${t}' for this machine only` : fix;
      return { ok: false, message: `'${t}' has no ':port'`, fix: hint };
    }
    host = t.slice(0, colon);
    portText = t.slice(colon + 1);
    if (host.includes(':')) return { ok: false, message: `'${t}' looks like an IPv6 address without brackets`, fix: 'write IPv6 hosts in brackets, for example [::1]:8000' };
    if (host === '*') host = '';
    if (host !== '' && !HOST.test(host)) return { ok: false, message: `'${host}' in '${t}' is not a host name or IP address`, fix };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return { ok: false, message: `'${portText}' in '${t}' is not a port number`, fix: 'ports are 0-65535 (0 picks a free port)' };
  }
  const port = Number(portText);
  const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { ok: true, value: { kind: 'tcp', host, port, text: shown } };
}
