/**
 * The /dashboard pages of the stats-http address. A stub answering 404 until the dashboard
 * (issue 13, item 5) replaces this file; the stats server calls it for every path below /dashboard.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatsDocument } from './document.js';

export function handleDashboard(_req: IncomingMessage, res: ServerResponse, _snapshot: () => StatsDocument): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('no dashboard in this build\n');
}
