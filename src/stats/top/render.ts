/**
 * `berth top`'s screen as plain text: a stats document (and the one before it, for req/s) in,
 * lines of at most `width` characters out. Pure: the terminal side is screen.ts.
 */
import type { StatsView, WorkerView } from '../view-document.js';

/** A document and when it was read (ms, any monotonic clock). */
export interface Sample {
  readonly view: StatsView;
  readonly atMs: number;
}

export interface Frame {
  readonly address: string;
  readonly current: Sample | null;
  readonly previous: Sample | null;
  /** Why the last read failed (the screen keeps the last good sample), or null. */
  readonly problem: string | null;
  /** The wall clock shown in the header. */
  readonly now: Date;
  readonly width: number;
  readonly height: number;
  readonly refreshMs: number;
}

export interface Screen {
  readonly lines: readonly string[];
  /** The index of the column-title line (drawn in reverse video), or -1. */
  readonly titleRow: number;
}

interface Column {
  readonly title: string;
  readonly width: number;
  readonly left?: boolean;
}

/** 78 characters with the gaps: fits an 80-column terminal without touching the last column. */
const COLUMNS: readonly Column[] = [
  { title: 'WID', width: 3 },
  { title: 'PID', width: 7 },
  { title: 'STATUS', width: 6, left: true },
  { title: 'REQ', width: 8 },
  { title: 'REQ/S', width: 7 },
  { title: 'AVG ms', width: 7 },
  { title: 'RSS', width: 8 },
  { title: 'RESP', width: 5 },
  { title: 'HARA', width: 4 },
  { title: 'EXC', width: 6 },
  { title: 'TX', width: 7 },
];

function cell(text: string, column: Column): string {
  const t = text.length > column.width ? text.slice(0, column.width) : text;
  return column.left === true ? t.padEnd(column.width) : t.padStart(column.width);
}

function row(cells: readonly string[]): string {
  return COLUMNS.map((c, i) => cell(cells[i] ?? '', c)).join(' ');
}

/** 1536 → "1.5K"; bytes with binary prefixes, three significant characters or so. */
export function formatBytes(n: number): string {
  if (n < 1024) return String(Math.round(n));
  const units = ['K', 'M', 'G', 'T'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

/** A rate or a time: one decimal below 100, whole numbers above. */
export function formatAmount(n: number): string {
  return n < 100 ? n.toFixed(1) : String(Math.round(n));
}

/** Requests per second of one worker between two samples; null when it respawned or is new. */
function workerRate(w: WorkerView, before: StatsView | null, seconds: number): number | null {
  if (before === null || seconds <= 0) return null;
  const old = before.workers.find((o) => o.id === w.id);
  if (old === undefined || old.pid !== w.pid || w.requests < old.requests) return null;
  return (w.requests - old.requests) / seconds;
}

function uptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function clip(line: string, width: number): string {
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

export function renderTop(frame: Frame): Screen {
  const width = Math.max(20, frame.width - 1);
  const clock = frame.now.toTimeString().slice(0, 8);
  const lines: string[] = [];
  const view = frame.current?.view ?? null;
  lines.push(`berth top  ${frame.address}${view !== null ? `  version ${view.version}  master ${view.pid}` : ''}  ${clock}`);
  if (view === null) {
    lines.push('');
    lines.push(frame.problem ?? `reading ${frame.address}…`);
    lines.push(`retrying every ${frame.refreshMs / 1000} s; q quits`);
    return { lines: lines.map((l) => clip(l, width)), titleRow: -1 };
  }
  const before = frame.previous?.view ?? null;
  const seconds = frame.previous !== null && frame.current !== null ? (frame.current.atMs - frame.previous.atMs) / 1000 : 0;
  const rates = view.workers.map((w) => workerRate(w, before, seconds));
  const known = rates.filter((r): r is number => r !== null);
  const totalRate = known.length > 0 ? known.reduce((a, b) => a + b, 0) : null;
  const totalRequests = view.workers.reduce((a, w) => a + w.requests, 0);
  const busy = view.workers.filter((w) => w.status === 'busy').length;
  const maxQueue = view.sockets.reduce((a, s) => Math.max(a, s.maxQueue), 0);
  lines.push(
    `requests ${totalRequests}  ${totalRate !== null ? `${formatAmount(totalRate)}/s` : '-/s'}  ` +
      `workers ${view.workers.length} (${busy} busy)  ` +
      `queue ${view.listenQueue}${maxQueue > 0 ? `/${maxQueue}` : ''} (${view.listenQueueErrors} overflowed)  load ${view.load}`,
  );
  const b = view.berth;
  const facts: string[] = [];
  if (b !== null) {
    if (b.generation !== null) facts.push(`generation ${b.generation}`);
    if (b.reloads !== null) facts.push(`reloads ${b.reloads}`);
    if (b.python !== null) facts.push(`python ${b.python}`);
    if (b.startedAt !== null) facts.push(`up ${uptime(frame.now.getTime() / 1000 - b.startedAt)}`);
    if (b.recentErrors.length > 0) facts.push(`recent errors ${b.recentErrors.length}`);
  }
  if (view.sockets.length > 0) facts.push(`on ${view.sockets.map((s) => `${s.name} (${s.proto})`).join(', ')}`);
  lines.push(facts.join('  '));
  lines.push(frame.problem !== null ? `! ${frame.problem} (showing the last good read; retrying)` : '');
  const titleRow = lines.length;
  lines.push(row(COLUMNS.map((c) => c.title)));
  // The title, the totals and the footer take three lines; the workers get what is left.
  const room = Math.max(1, frame.height - lines.length - 2);
  const shown = view.workers.length > room ? room - 1 : view.workers.length;
  view.workers.slice(0, shown).forEach((w, i) => {
    const rate = rates[i] ?? null;
    lines.push(row([
      String(w.id), String(w.pid), w.status, String(w.requests), rate === null ? '-' : formatAmount(rate),
      formatAmount(w.avgRt / 1000), w.rss > 0 ? formatBytes(w.rss) : '-', String(w.respawnCount), String(w.harakiriCount),
      String(w.exceptions), formatBytes(w.tx),
    ]));
  });
  if (shown < view.workers.length) lines.push(`… and ${view.workers.length - shown} more workers (a taller terminal shows them)`);
  const sum = (f: (w: WorkerView) => number): number => view.workers.reduce((a, w) => a + f(w), 0);
  const weighted = totalRequests > 0 ? sum((w) => w.avgRt * w.requests) / totalRequests : 0;
  lines.push(row([
    'all', '', '', String(totalRequests), totalRate === null ? '-' : formatAmount(totalRate), formatAmount(weighted / 1000),
    sum((w) => w.rss) > 0 ? formatBytes(sum((w) => w.rss)) : '-', String(sum((w) => w.respawnCount)), String(sum((w) => w.harakiriCount)),
    String(sum((w) => w.exceptions)), formatBytes(sum((w) => w.tx)),
  ]));
  lines.push(`q quits; refresh every ${frame.refreshMs / 1000} s`);
  return { lines: lines.map((l) => clip(l, width)), titleRow };
}
