/** The Date header value, formatted once per second rather than once per response. */
import { imfFixdate } from '../protocol/http1/date.js';

export class HttpDateClock {
  #second = -1;
  #value = '';

  now(): string {
    const ms = Date.now();
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#value = imfFixdate(second * 1000);
    }
    return this.#value;
  }
}
