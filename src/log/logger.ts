/**
 * One logger for the master: Berth's own messages and the request log. Lines are gathered and
 * written once per event-loop turn, so a busy server does one write per turn, not one per request.
 * `logto` appends to a file (rotating by size when asked); otherwise lines go to stderr.
 *
 * Berth's own messages may quote a peer (a method, a path, a var) or carry a worker's traceback,
 * so each is neutralised here as a last line of defence: control characters are escaped, and a
 * line break a message does contain starts a continuation line marked CONTINUED, which no
 * request log line, Berth line or JSON object begins with.
 */
import { escapeControls } from '../protocol/peer-text.js';
import { RotatingFileSink, type RotatingFileOptions } from './rotating-file.js';

/** How the second and later lines of one message begin. */
const CONTINUED = '  | ';

export interface LogSink {
  write(text: string): void;
  /** Open the destination again (after an external rename); a no-op for streams. Throws if it cannot, keeping the old one. */
  reopen(): void;
  close(): void;
}

/**
 * Keeps the server up when whoever reads its stdout or stderr is gone (an emperor or a `| tee`
 * killed by SIGKILL): Node reports the broken pipe as an 'error' event, which unhandled ends the
 * process at once, before its workers are stopped. Lines written after that are lost; nothing
 * else is, as with uWSGI.
 */
export function surviveClosedStdio(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => undefined);
  }
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
    this.line(`[berth] ${neutralise(message)}`);
  }

  warn(message: string): void {
    this.line(`[berth] WARNING: ${neutralise(message)}`);
  }

  error(message: string): void {
    this.line(`[berth] ERROR: ${neutralise(message)}`);
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

/** A message as one log entry: controls escaped, every line after the first marked CONTINUED. */
export function neutralise(message: string): string {
  const text = escapeControls(message.endsWith('\n') ? message.slice(0, -1) : message, true);
  return text.indexOf('\n') === -1 ? text : text.split('\n').join('\n' + CONTINUED);
}
