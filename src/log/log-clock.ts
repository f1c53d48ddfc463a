/**
 * Time stamps for the request log, cached per second. The log runs for every request, so a Date
 * is built only when the second changes; each shape has its own one-entry cache because a
 * format usually uses one of them and requests finishing together share their second.
 *
 * Times are milliseconds since the epoch; local-time shapes follow the process's TZ as
 * uWSGI's strftime/ctime do.
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : String(n);
}

/** One cached rendering of a second. */
class SecondCache {
  #second = Number.NaN;
  #text = '';
  readonly #render: (d: Date) => string;

  constructor(render: (d: Date) => string) {
    this.#render = render;
  }

  get(second: number): string {
    if (second !== this.#second) {
      this.#second = second;
      this.#text = this.#render(new Date(second * 1000));
    }
    return this.#text;
  }
}

export class LogClock {
  /** Berth's default request line: "Sat Nov 21 21:40:00 2026" (day not padded). */
  readonly #stamp = new SecondCache(
    (d) => `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${d.getDate()} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${d.getFullYear()}`,
  );
  /** ctime(3) without its newline: "Sat Nov  1 21:40:00 2026" (day padded with a space). */
  readonly #ctime = new SecondCache((d) => {
    const day = d.getDate();
    return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day < 10 ? ' ' + day : day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${d.getFullYear()}`;
  });
  /** strftime "%d/%b/%Y:%H:%M:%S %z", the Apache/nginx shape: "21/Nov/2026:21:40:00 +0000". */
  readonly #ltime = new SecondCache((d) => {
    const west = d.getTimezoneOffset();
    const off = Math.abs(west);
    const zone = (west <= 0 ? '+' : '-') + pad2(Math.floor(off / 60)) + pad2(off % 60);
    return `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${zone}`;
  });
  /** ISO 8601 in UTC up to the seconds' dot: "2026-11-21T21:40:00." */
  readonly #isoPrefix = new SecondCache((d) => d.toISOString().slice(0, 20));

  stamp(ms: number): string {
    return this.#stamp.get(Math.floor(ms / 1000));
  }

  ctime(ms: number): string {
    return this.#ctime.get(Math.floor(ms / 1000));
  }

  ltime(ms: number): string {
    return this.#ltime.get(Math.floor(ms / 1000));
  }

  /** "2026-11-21T21:40:00.123Z" */
  iso(ms: number): string {
    const whole = Math.floor(ms);
    const second = Math.floor(whole / 1000);
    return this.#isoPrefix.get(second) + pad3(whole - second * 1000) + 'Z';
  }
}
