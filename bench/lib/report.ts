// Turns measurements into the summary table: medians over rounds, Berth ÷ peer
// ratios (each peer is compared with the Berth config that has the same
// thread count), and the console / markdown / JSON renderings.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import type { Measurement } from './measure.js';
import type { ServerSpec } from './servers.js';

export interface Row {
  scenario: string;
  server: string;
  workers: string;
  okRounds: number;
  rounds: number;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  peakRssMiB?: number;
  peakPssMiB?: number;
  errors?: number;
  readErrors?: number;
  /** slow-clients: fast-client req/s with slow clients as % of without. */
  keptPct?: number;
  baselineRps?: number;
  berthRpsRatio?: number;
  berthP99Ratio?: number;
  comparedWith?: string;
  note?: string;
}

/** The median of the values that are numbers (NaN is "no data"); undefined when there are none. */
export function median(values: number[]): number | undefined {
  // Infinity (a latency beyond wrk's timeout) is a real, orderable value; NaN is "no data".
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1]! + v[mid]!) / 2;
}

export function summarize(measurements: Measurement[], servers: readonly ServerSpec[], scenarios: string[]): Row[] {
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    for (const spec of servers) {
      const all = measurements.filter((m) => m.scenario === scenario && m.server === spec.name);
      if (all.length === 0) continue;
      const ok = all.filter((m) => m.ok && m.wrk);
      const row: Row = { scenario, server: spec.name, workers: spec.workers, okRounds: ok.length, rounds: all.length };
      if (ok.length > 0) {
        row.rps = median(ok.map((m) => m.wrk!.rps));
        row.p50Ms = median(ok.map((m) => m.wrk!.p50Ms));
        row.p99Ms = median(ok.map((m) => m.wrk!.p99Ms));
        row.errors = ok.reduce((n, m) => n + m.wrk!.errors, 0);
        row.readErrors = ok.reduce((n, m) => n + m.wrk!.readErrors, 0);
        const withBase = ok.filter((m) => m.fastOnly && m.withSlow);
        if (withBase.length > 0) {
          row.baselineRps = median(withBase.map(baselineRps));
          row.keptPct = median(withBase.map(keptPct));
        }
      }
      row.peakRssMiB = median(all.filter((m) => m.peakRssKb > 0).map((m) => m.peakRssKb / 1024));
      row.peakPssMiB = median(all.filter((m) => m.peakPssKb > 0).map((m) => m.peakPssKb / 1024));
      const failed = all.find((m) => m.error);
      if (failed) row.note = failed.error;
      rows.push(row);
    }
  }
  for (const row of rows) {
    const spec = servers.find((s) => s.name === row.server);
    if (!spec?.comparesTo) continue;
    row.comparedWith = spec.comparesTo;
    const berth = rows.find((r) => r.scenario === row.scenario && r.server === spec.comparesTo);
    if (berth?.rps !== undefined && row.rps) row.berthRpsRatio = berth.rps / row.rps;
    if (berth?.p99Ms !== undefined && row.p99Ms) row.berthP99Ratio = berth.p99Ms / row.p99Ms;
  }
  return rows;
}

const fmt = {
  int: (v?: number) => (v === undefined ? '—' : Math.round(v).toLocaleString('en-US')),
  ms: (v?: number) => (v === undefined ? '—' : v === Infinity ? '>2000' : v < 10 ? v.toFixed(2) : v.toFixed(1)),
  mib: (v?: number) => (v === undefined ? '—' : v.toFixed(1)),
  // A peer that nearly stalled makes the ratio meaningless beyond "far better".
  ratio: (v?: number, vs?: string) =>
    (v === undefined || Number.isNaN(v) ? '—' : v > 100 ? `>100× (${vs})` : v < 0.01 ? `<0.01× (${vs})` : `${v.toFixed(2)}× (${vs})`),
  pct: (v?: number) => (v === undefined ? '' : `${v.toFixed(0)}%`),
};

const HEADER = ['scenario', 'server', 'workers', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MiB',
  'peak PSS MiB', 'errors', 'read errs', 'kept w/ slow', 'Berth÷peer req/s', 'Berth÷peer p99', 'note'];

function cells(row: Row): string[] {
  const rounds = row.okRounds === row.rounds ? '' : ` [${row.okRounds}/${row.rounds} rounds ok]`;
  return [row.scenario, row.server, row.workers, fmt.int(row.rps), fmt.ms(row.p50Ms), fmt.ms(row.p99Ms),
    fmt.mib(row.peakRssMiB), fmt.mib(row.peakPssMiB), row.errors === undefined ? '—' : String(row.errors),
    row.readErrors === undefined ? '—' : String(row.readErrors),
    row.keptPct === undefined ? '' : `${fmt.pct(row.keptPct)} of ${fmt.int(row.baselineRps)}`,
    fmt.ratio(row.berthRpsRatio, row.comparedWith), fmt.ratio(row.berthP99Ratio, row.comparedWith),
    (row.note ?? '').slice(0, 160) + rounds];
}

export function textTable(rows: Row[]): string {
  const body = rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => (i === HEADER.length - 1 ? 0 : r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(HEADER), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function markdownTable(rows: Row[]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`)].join('\n');
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text === '' ? `unavailable (${r.error?.message ?? r.status})` : text.split('\n')[0]!;
}

export interface MachineInfo { [key: string]: string }

export function machineInfo(python: string): MachineInfo {
  let cpu = 'unknown';
  try { cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu; } catch { /* not Linux */ }
  return {
    nproc: String(availableParallelism()),
    cpu,
    kernel: release(),
    node: process.version,
    python: firstLine(python, ['--version']),
    uwsgi: firstLine('uwsgi', ['--version']),
    gunicorn: firstLine('gunicorn', ['--version']),
    wrk: firstLine('wrk', ['--version']).replace(/\s+Copyright.*/, ''),
  };
}

export function markdownReport(rows: Row[], machine: MachineInfo, command: string, settings: object, notes: string): string {
  return [
    `# Berth bench — ${new Date().toISOString()}`, '',
    `Command: \`${command}\``, '',
    ...Object.entries(machine).map(([k, v]) => `- ${k}: ${v}`),
    `- settings: \`${JSON.stringify(settings)}\``, '',
    markdownTable(rows), '', notes, '',
  ].join('\n');
}

/** The fast clients' req/s without slow clients: the mean of the runs around the slow ones. */
export function baselineRps(m: Measurement): number {
  const runs = m.fastOnly!;
  return runs.reduce((n, r) => n + r.rps, 0) / runs.length;
}

/** Fast req/s kept under slow clients, in %: each run with them ÷ the mean of its neighbours without, averaged. */
export function keptPct(m: Measurement): number {
  const fast = m.fastOnly!;
  const shares = m.withSlow!.map((r, i) => r.rps / ((fast[i]!.rps + fast[i + 1]!.rps) / 2));
  return (100 * shares.reduce((n, x) => n + x, 0)) / shares.length;
}
