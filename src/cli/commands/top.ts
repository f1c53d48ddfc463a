/**
 * `berth top ADDRESS|PIDFILE`: a live terminal view of a stats server (Berth's or uWSGI's). Given
 * a pidfile, the stats address comes from the running master's own configuration.
 */
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { inspectPidfile } from '../../master/pidfile.js';
import { argValue } from '../../master/proc.js';
import { runTop } from '../../stats/top/screen.js';
import { parseStatsAddress, type StatsAddress } from '../../stats/stats-client.js';

const USAGE = "usage: berth top ADDRESS|PIDFILE — ADDRESS is the 'stats' option's value (127.0.0.1:9191, :9191, /run/stats.sock, http://127.0.0.1:9191), PIDFILE the running Berth's 'pidfile'";
const REFRESH_MS = 1000;

type Found = { ok: true; address: StatsAddress } | { ok: false; message: string };

/** The stats address a master was started with: its loaded config when it has one, else `--stats` on its command line. */
function statsOfMaster(pid: number, argv: readonly string[]): string | null {
  // `node …/berth.js ARGS` or a `berth ARGS` wrapper: the options follow the script.
  const isScript = (w: string): boolean => /(^|\/)berth(\.js)?$/.test(w);
  const script = isScript(argv[0] ?? '') ? 0 : argv.findIndex((w, i) => i > 0 && isScript(w));
  let args = argv.slice(script + 1);
  if (args[0] === 'run') args = args.slice(1);
  let cwd = '/';
  let env: Record<string, string> = {};
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
    env = Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((kv) => kv.startsWith('BERTH_')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  } catch {
    // another user's process: its command line alone has to do
  }
  const loaded = loadConfig({ argv: args, env, cwd });
  // `stats` joins the Config with the stats server; read it defensively until then.
  const fromConfig = loaded.ok ? (loaded.config as unknown as Record<string, unknown>)['stats'] : undefined;
  if (typeof fromConfig === 'string' && fromConfig !== '') return fromConfig;
  const fromArgv = argValue(args, 'stats') ?? argValue(args, 'stats-server');
  if (fromArgv === null) return null;
  return fromArgv.includes('/') && !fromArgv.startsWith('/') ? resolvePath(cwd, fromArgv) : fromArgv;
}

function fromPidfile(path: string): Found {
  const state = inspectPidfile(path);
  if (state.kind === 'absent') return { ok: false, message: `no pidfile at ${path} — give the stats address instead (berth top 127.0.0.1:9191)` };
  if (state.kind === 'unreadable') return { ok: false, message: `cannot read ${path}: ${state.reason} — run as the user Berth runs as, or give the stats address` };
  if (state.kind === 'stale') return { ok: false, message: `the pidfile ${path} is stale (${state.why}), so there is no running Berth to watch; start it, or give a stats address` };
  const stats = statsOfMaster(state.pid, state.argv);
  if (stats === null) {
    return { ok: false, message: `the Berth running as pid ${state.pid} (pidfile ${path}) has no stats server: add 'stats = 127.0.0.1:9191' to its configuration, reload it, then run 'berth top ${path}' again` };
  }
  const address = parseStatsAddress(stats);
  if (address === null) return { ok: false, message: `the Berth running as pid ${state.pid} has 'stats = ${stats}', which berth top cannot read; give the address: berth top 127.0.0.1:9191` };
  return { ok: true, address };
}

/** An address as written, or a pidfile; a unix socket path is an address, a regular file a pidfile. */
export function findStatsAddress(arg: string): Found {
  let kind: 'socket' | 'file' | 'none' = 'none';
  try {
    const st = statSync(arg);
    kind = st.isSocket() ? 'socket' : st.isFile() ? 'file' : 'none';
  } catch {
    // not a path on this machine: an address, or a mistake
  }
  if (kind === 'file') return fromPidfile(arg);
  const address = parseStatsAddress(kind === 'socket' ? resolvePath(arg) : arg);
  if (address !== null) return { ok: true, address };
  return { ok: false, message: `'${arg}' is neither a stats address nor a pidfile — ${USAGE.slice(7)}` };
}

export async function runTopCommand(argv: readonly string[]): Promise<number> {
  if (argv.length !== 1 || argv[0] === '--help' || argv[0] === '-h') {
    (argv.length === 1 ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return argv.length === 1 ? 0 : 2;
  }
  const found = findStatsAddress(argv[0]!);
  if (!found.ok) {
    process.stderr.write(`[berth] top: ${found.message}\n`);
    return 1;
  }
  return runTop({ address: found.address, refreshMs: REFRESH_MS }, { stdin: process.stdin, stdout: process.stdout });
}
