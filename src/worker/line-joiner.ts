/**
 * Keeps a Python process's output lines whole on their way to the log: a pipe delivers what the
 * process wrote in whatever pieces it wrote them (an unbuffered `print('hi')` is two writes, 'hi'
 * then '\n'), and the log makes every piece a line. Complete lines pass at once; a partial line
 * waits for its newline, or `holdMs`, or the end of the stream.
 */
export const PARTIAL_LINE_HOLD_MS = 100;

export class LineJoiner {
  readonly #emit: (text: string) => void;
  readonly #holdMs: number;
  #partial = '';
  #timer: NodeJS.Timeout | null = null;

  constructor(emit: (text: string) => void, holdMs = PARTIAL_LINE_HOLD_MS) {
    this.#emit = emit;
    this.#holdMs = holdMs;
  }

  push(text: string): void {
    const nl = text.lastIndexOf('\n');
    if (nl === -1) {
      this.#partial += text;
      this.#arm();
      return;
    }
    const whole = this.#partial + text.slice(0, nl + 1);
    this.#partial = text.slice(nl + 1);
    this.#disarm();
    this.#emit(whole);
    if (this.#partial !== '') this.#arm();
  }

  /** Emits a partial line as it is (the stream ended, or its newline is overdue). */
  flush(): void {
    this.#disarm();
    if (this.#partial === '') return;
    const text = this.#partial;
    this.#partial = '';
    this.#emit(text);
  }

  #arm(): void {
    if (this.#timer !== null || this.#partial === '') return;
    this.#timer = setTimeout(() => this.flush(), this.#holdMs);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }
}
