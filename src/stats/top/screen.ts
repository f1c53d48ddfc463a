/**
 * `berth top`'s terminal: reads the stats address every second and redraws with plain ANSI
 * (alternate screen, cursor home, erase to end of line), so it works in any terminal and over
 * ssh. `q` (or Ctrl-C) quits and gives the terminal back as it was. When stdout is not a
 * terminal it prints one frame and exits, like `top -b -n 1`.
 */
import { readStatsView } from '../view-document.js';
import { renderTop, type Sample } from './render.js';
import { fetchStatsDocument, type StatsAddress } from '../stats-client.js';

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const ERASE_LINE = '\x1b[K';
const ERASE_BELOW = '\x1b[J';
const REVERSE = '\x1b[7m';
const PLAIN = '\x1b[0m';

export interface TopTerminal {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
}

export interface TopOptions {
  readonly address: StatsAddress;
  readonly refreshMs: number;
}

async function sample(address: StatsAddress, timeoutMs: number, signal?: AbortSignal): Promise<Sample> {
  const doc = await fetchStatsDocument(address, { timeoutMs, signal });
  return { view: readStatsView(doc), atMs: performance.now() };
}

/** Prints one frame (no escapes); exit code 1 when the address did not answer. */
async function once(options: TopOptions, out: NodeJS.WriteStream): Promise<number> {
  let current: Sample | null = null;
  let problem: string | null = null;
  try {
    current = await sample(options.address, options.refreshMs * 3);
  } catch (err) {
    problem = (err as Error).message;
  }
  const screen = renderTop({ address: options.address.text, current, previous: null, problem, now: new Date(), width: 80, height: 1000, refreshMs: options.refreshMs });
  out.write(`${screen.lines.join('\n')}\n`);
  return current === null ? 1 : 0;
}

/** Runs until `q`; resolves with the exit code. */
export function runTop(options: TopOptions, terminal: TopTerminal): Promise<number> {
  const { stdin, stdout } = terminal;
  if (!stdout.isTTY) return once(options, stdout);
  return new Promise((resolve) => {
    let current: Sample | null = null;
    let previous: Sample | null = null;
    let problem: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const reading = new AbortController();
    const draw = (): void => {
      if (stopped) return;
      const screen = renderTop({
        address: options.address.text, current, previous, problem, now: new Date(),
        width: stdout.columns || 80, height: stdout.rows || 24, refreshMs: options.refreshMs,
      });
      const body = screen.lines.map((l, i) => (i === screen.titleRow ? `${REVERSE}${l}${PLAIN}` : l) + ERASE_LINE).join('\r\n');
      stdout.write(`${HOME}${body}${ERASE_BELOW}`);
    };
    const tick = async (): Promise<void> => {
      try {
        const next = await sample(options.address, Math.max(500, options.refreshMs - 100), reading.signal);
        previous = current;
        current = next;
        problem = null;
      } catch (err) {
        problem = (err as Error).message;
      }
      draw();
      if (!stopped) timer = setTimeout(() => void tick(), options.refreshMs);
    };
    const quit = (code: number): void => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      reading.abort();
      stdin.off('data', onKey);
      stdout.off('resize', draw);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onTerm);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      stdout.write(LEAVE);
      resolve(code);
    };
    const onKey = (key: Buffer): void => {
      // q, Q, Ctrl-C (raw mode delivers it as a byte, not SIGINT), Ctrl-D.
      if (key.includes(0x71) || key.includes(0x51) || key.includes(0x03) || key.includes(0x04)) quit(0);
    };
    const onTerm = (): void => quit(0);
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
    stdout.on('resize', draw);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onTerm);
    stdout.write(ENTER);
    draw();
    void tick();
  });
}
