/**
 * The last lines a worker printed (stdout + stderr), kept so the arbiter can show the last
 * traceback of a crash loop. Bounded by bytes while appending (cheap: one concatenation, a
 * slice now and then) and by lines only when read.
 */
export const TAIL_MAX_CHARS = 8 * 1024;
export const TAIL_MAX_LINES = 30;

export class OutputTail {
  #text = '';

  append(text: string): void {
    this.#text += text;
    // Trim only once twice the bound is reached, so steady output costs no slice per chunk.
    if (this.#text.length > 2 * TAIL_MAX_CHARS) this.#text = this.#text.slice(-TAIL_MAX_CHARS);
  }

  /** At most the last TAIL_MAX_LINES lines and TAIL_MAX_CHARS characters, whole lines where possible. */
  text(): string {
    let text = this.#text.length > TAIL_MAX_CHARS ? this.#text.slice(-TAIL_MAX_CHARS) : this.#text;
    if (text.length < this.#text.length) {
      const nl = text.indexOf('\n');
      if (nl !== -1 && nl < text.length - 1) text = text.slice(nl + 1);
    }
    let at = text.length;
    if (text.endsWith('\n')) at--;
    for (let lines = 0; lines < TAIL_MAX_LINES; lines++) {
      at = text.lastIndexOf('\n', at - 1);
      if (at === -1) return text;
    }
    return text.slice(at + 1);
  }
}
