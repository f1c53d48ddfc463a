/**
 * One logger for the master: Berth's own messages and the request log. Lines are gathered and
 * written once per event-loop turn, so a busy server does one write per turn, not one per request.
 * `logto` appends to a file; otherwise lines go to stderr.
 */
import { openSync, writeSync, closeSync } from 'node:fs';

export interface LogSink {
  write(text: string): void;
  close(): void;
}

export function stderrSink(): LogSink {
  return { write: (t) => void process.stderr.write(t), close: () => undefined };
}

export function fileSink(path: string): LogSink {
  const fd = openSync(path, 'a', 0o644);
  return {
    write: (t) => void writeSync(fd, t),
    close: () => closeSync(fd),
  };
}

export class Logger {
  readonly #sink: LogSink;
  #pending = '';
  #scheduled = false;

  constructor(sink: LogSink) {
    this.#sink = sink;
  }

  info(message: string): void {
    this.line(`[berth] ${message}`);
  }

  warn(message: string): void {
    this.line(`[berth] WARNING: ${message}`);
  }

  error(message: string): void {
    this.line(`[berth] ERROR: ${message}`);
  }

  /** A raw line (request log lines, worker output). */
  line(text: string): void {
    this.#pending += text.endsWith('\n') ? text : text + '\n';
    if (this.#pending.length > 65536) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#pending === '') return;
    const text = this.#pending;
    this.#pending = '';
    this.#sink.write(text);
  }

  close(): void {
    this.flush();
    this.#sink.close();
  }
}
