/**
 * The dashboard at `/dashboard` of the stats-http address: one small page (assets/dashboard/,
 * about 10 KB, no CDN, no framework) that polls `/dashboard/data` — the stats snapshot as JSON —
 * every second. A strict Content-Security-Policy backs the page's rule of writing data as text only.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The parsed stats JSON (uWSGI's document, with Berth's optional `berth` key); the lead aligns it with the stats server's type. */
export type StatsDocument = Record<string, unknown>;

const ASSETS = new URL('../../../assets/dashboard/', import.meta.url);

const FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/dashboard': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/** The page loads only its own script and style and talks only to its own origin. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Assets read once, on first use: they ship with the package and do not change while it runs. */
const cache = new Map<string, Buffer>();

function asset(file: string): Buffer {
  let body = cache.get(file);
  if (body === undefined) {
    body = readFileSync(new URL(file, ASSETS));
    cache.set(file, body);
  }
  return body;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Buffer | string, extra: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(bytes.length), 'Cache-Control': 'no-store', ...SECURITY_HEADERS, ...extra });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

export function handleDashboard(req: IncomingMessage, res: ServerResponse, snapshot: () => StatsDocument): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(req, res, 405, 'text/plain; charset=utf-8', 'the dashboard answers GET and HEAD only\n', { Allow: 'GET, HEAD' });
    return;
  }
  const path = (req.url ?? '/').split('?')[0]!;
  if (path === '/dashboard/data') {
    send(req, res, 200, 'application/json', JSON.stringify(snapshot()));
    return;
  }
  const entry = FILES[path];
  if (entry === undefined) {
    send(req, res, 404, 'text/plain; charset=utf-8', `no such dashboard page: ${path} (the dashboard is at /dashboard)\n`);
    return;
  }
  send(req, res, 200, entry.type, asset(entry.file));
}
