/**
 * One logger for the master: Berth's own messages and the request log. Lines are gathered and
 * written once per event-loop turn, so a busy server does one write per turn, not one per request.
 * `logto` appends to a file (rotating by size when asked); otherwise lines go to stderr.
 */
import { RotatingFileSink, type RotatingFileOptions } from './rotating-file.js';

export interface LogSink {
  write(text: string): void;
  /** Open the destination again (after an external rename); a no-op for streams. Throws if it cannot, keeping the old one. */
  reopen(): void;
  close(): void;
}

export function stderrSink(): LogSink {
  return { write: (t) => void process.stderr.write(t), reopen: () => undefined, close: () => undefined };
}

/** A log file; without `rotation` it only appends (and can still be reopened). */
export function fileSink(path: string, rotation: Omit<RotatingFileOptions, 'path'> = { maxBytes: 0, backupName: null, backups: 0 }): LogSink {
  return new RotatingFileSink({ ...rotation, path });
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

  /**
   * SIGUSR1 / touch-logreopen: lines gathered so far go to the old file, later ones to the new.
   * Throws (with the path and the fix) when the path cannot be opened; logging continues to the old file.
   */
  reopen(): void {
    this.flush();
    this.#sink.reopen();
  }

  close(): void {
    this.flush();
    this.#sink.close();
  }
}
