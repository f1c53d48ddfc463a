// Keeps a server's whole stdout+stderr (the bench's ServerProcess keeps only a
// tail) so the reload and respawn benches can count log lines such as "chain
// reloading complete" or "worker respawning too fast". Bounded: the servers
// run with request logging off, so only the master's own lines arrive.

import type { ServerProcess } from './proc.js';

const MAX_CHARS = 8 * 1024 * 1024;

export class LogCapture {
  #text = '';

  constructor(server: ServerProcess) {
    const keep = (chunk: Buffer) => {
      if (this.#text.length >= MAX_CHARS) return;
      this.#text += chunk.toString('utf8');
    };
    server.child.stdout?.on('data', keep);
    server.child.stderr?.on('data', keep);
  }

  get text(): string { return this.#text; }

  /** The lines matching `pattern` (tested line by line). */
  lines(pattern: RegExp): string[] {
    const flags = pattern.flags.replace(/[gy]/g, '');
    const re = new RegExp(pattern.source, flags);
    return this.#text.split('\n').filter((line) => re.test(line));
  }

  count(pattern: RegExp): number {
    return this.lines(pattern).length;
  }
}
