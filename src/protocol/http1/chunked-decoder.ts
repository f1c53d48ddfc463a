/**
 * The chunked transfer coding decoder (RFC 9112 §7.1), byte by byte, sans-IO.
 *
 * Theory of operation: the chunked transfer coding (RFC 9112 §7.1) as one byte-level state
 * machine, shared by the request parser (client bodies) and the upstream response parser.
 * The owner hands it its buffer; chunk data goes to `sink.onBody` as views into that buffer
 * (no copy); chunk-size lines, extensions and trailers are validated and dropped (trailers
 * kept as text when the owner relays them: `keepTrailers`). Decoding
 * stops right after the final CRLF (`done`), so the owner keeps any bytes that follow, or at
 * the first error (`failure`), which the owner turns into its own error type and status.
 */
import { COLON, CR, FIELD_VALUE, HEX_VALUE, HTAB, LF, SEMICOLON, SP, TOKEN } from './tables.js';

/** chunk-size digits: 2^53 − 1 has 14 hex digits; 16 allows leading zeros, more can only be abuse. */
const MAX_CHUNK_SIZE_DIGITS = 16;

const SIZE = 0;
const EXT_PRE = 1;
const EXT = 2;
const SIZE_LF = 3;
const DATA = 4;
const DATA_CR = 5;
const DATA_LF = 6;
const TRAILER_START = 7;
const TRAILER_NAME = 8;
const TRAILER_VALUE = 9;
const TRAILER_LF = 10;
const END_LF = 11;
const DONE = 12;
const FAILED = 13;

/** 'bad': broken framing (400); 'body-too-large': over maxBodyBytes (413); 'trailers-too-large': over the trailer budget (431). */
export interface ChunkedFailure {
  readonly kind: 'bad' | 'body-too-large' | 'trailers-too-large';
  readonly message: string;
}

export interface ChunkedLimits {
  /** Max total chunk-data bytes; 0 = unlimited. */
  readonly maxBodyBytes: number;
  /** Max bytes of chunk extensions over the whole message. */
  readonly maxExtensionBytes: number;
  /** Max bytes of the trailer section (including its final CRLF). */
  readonly trailerBudget: number;
  /**
   * Treat anything after whitespace behind chunk-size as an (ignored) extension, e.g. "A \r\n".
   * Not in the grammar, so requests refuse it; some backends pad their chunk sizes, so the
   * upstream response parser is lenient here (its bytes are still checked for CTLs).
   */
  readonly lenientExtensions?: boolean;
  /** Keep the trailer section's field lines in `trailers` (a proxy relays them). */
  readonly keepTrailers?: boolean;
}

/** A kept trailer section ("Name: value\r\n…", validated) as a flat [name, value, …] list. */
export function trailerFields(text: string): string[] {
  const fields: string[] = [];
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

export class ChunkedDecoder {
  #state = DONE;
  #remaining = 0;
  #digits = 0;
  #extBytes = 0;
  #bodyBytes = 0;
  #trailerBudget = 0;
  #limits: ChunkedLimits = { maxBodyBytes: 0, maxExtensionBytes: 0, trailerBudget: 0 };
  failure: ChunkedFailure | null = null;
  /** The trailer section's bytes (its final CRLF included) as latin1 text, when kept (keepTrailers). */
  trailers = '';

  /** Starts a new chunked body. */
  start(limits: ChunkedLimits): void {
    this.#limits = limits;
    this.#state = SIZE;
    this.#remaining = 0;
    this.#digits = 0;
    this.#extBytes = 0;
    this.#bodyBytes = 0;
    this.#trailerBudget = limits.trailerBudget;
    this.failure = null;
    this.trailers = '';
  }

  get done(): boolean {
    return this.#state === DONE;
  }

  /** Decodes `buf[pos, end)`; returns where it stopped (at `end`, after the last CRLF, or at an error). */
  decode(buf: Buffer, pos: number, end: number, sink: { onBody(chunk: Buffer): void }): number {
    while (pos < end) {
      if (this.#state === DATA) {
        const n = Math.min(this.#remaining, end - pos);
        const piece = buf.subarray(pos, pos + n);
        pos += n;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#state = DATA_CR;
        sink.onBody(piece);
        continue;
      }
      if (this.#state >= DONE) return pos;
      this.#step(buf[pos]!);
      pos++;
    }
    return pos;
  }

  #step(c: number): void {
    switch (this.#state) {
      case SIZE: {
        // chunk-size = 1*HEXDIG: no sign, no "0x", no leading whitespace.
        const hex = HEX_VALUE[c]!;
        if (hex !== 0) {
          if (++this.#digits > MAX_CHUNK_SIZE_DIGITS) return this.#fail('bad', 'chunk-size has too many digits');
          this.#remaining = this.#remaining * 16 + (hex - 1);
          if (this.#remaining > Number.MAX_SAFE_INTEGER) return this.#fail('bad', 'chunk-size overflows');
        } else if (this.#digits === 0) return this.#fail('bad', 'chunk-size is not a hex number (RFC 9112 §7.1)');
        else if (c === CR) this.#state = SIZE_LF;
        else if (c === SEMICOLON) this.#state = EXT;
        else if (c === SP || c === HTAB) this.#state = this.#limits.lenientExtensions === true ? EXT : EXT_PRE;
        else return this.#fail('bad', 'chunk-size is not a hex number (RFC 9112 §7.1)');
        return;
      }
      case EXT_PRE:
        // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 §7.1.1)
        if (c === SEMICOLON) this.#state = EXT;
        else if (c !== SP && c !== HTAB) return this.#fail('bad', 'junk after chunk-size (RFC 9112 §7.1.1)');
        return;
      case EXT:
        // Extensions are ignored; only their bytes are checked, so no CTL can hide a line end.
        if (++this.#extBytes > this.#limits.maxExtensionBytes) return this.#fail('bad', 'chunk extensions too long');
        if (c === CR) this.#state = SIZE_LF;
        else if (FIELD_VALUE[c] !== 1) return this.#fail('bad', 'control character in a chunk extension');
        return;
      case SIZE_LF:
        if (c !== LF) return this.#fail('bad', 'chunk-size line not ended by CRLF (RFC 9112 §7.1)');
        if (this.#remaining === 0) {
          this.#state = TRAILER_START;
          return;
        }
        this.#bodyBytes += this.#remaining;
        if (this.#limits.maxBodyBytes > 0 && this.#bodyBytes > this.#limits.maxBodyBytes) {
          return this.#fail('body-too-large', `chunked body exceeds the body limit of ${this.#limits.maxBodyBytes} bytes (limit-post)`);
        }
        this.#state = DATA;
        return;
      case DATA_CR:
        if (c !== CR) return this.#fail('bad', 'chunk-data not followed by CRLF (RFC 9112 §7.1)');
        this.#state = DATA_LF;
        return;
      case DATA_LF:
        if (c !== LF) return this.#fail('bad', 'chunk-data not followed by CRLF (RFC 9112 §7.1)');
        this.#state = SIZE;
        this.#digits = 0;
        return;
      default:
        this.#trailerByte(c);
    }
  }

  /** trailer-section = *( field-line CRLF ) CRLF (RFC 9112 §7.1.2): validated like fields, then dropped. */
  #trailerByte(c: number): void {
    if (--this.#trailerBudget < 0) return this.#fail('trailers-too-large', `trailers larger than ${this.#limits.trailerBudget} bytes`);
    if (this.#limits.keepTrailers === true) this.trailers += String.fromCharCode(c);
    switch (this.#state) {
      case TRAILER_START:
        if (c === CR) this.#state = END_LF;
        else if (TOKEN[c] === 1) this.#state = TRAILER_NAME;
        else if (c === SP || c === HTAB) return this.#fail('bad', 'obs-fold in the trailer section (RFC 9112 §5.2)');
        else return this.#fail('bad', 'invalid trailer field name (RFC 9110 §5.1)');
        return;
      case TRAILER_NAME:
        if (c === COLON) this.#state = TRAILER_VALUE;
        else if (c === SP || c === HTAB) return this.#fail('bad', 'whitespace between trailer name and colon (RFC 9112 §5.1)');
        else if (TOKEN[c] !== 1) return this.#fail('bad', 'invalid trailer field name (RFC 9110 §5.1)');
        return;
      case TRAILER_VALUE:
        if (c === CR) this.#state = TRAILER_LF;
        else if (FIELD_VALUE[c] !== 1) return this.#fail('bad', 'invalid character in a trailer value (RFC 9110 §5.5)');
        return;
      case TRAILER_LF:
        if (c !== LF) return this.#fail('bad', 'trailer line not ended by CRLF (RFC 9112 §2.2)');
        this.#state = TRAILER_START;
        return;
      default:
        if (c !== LF) return this.#fail('bad', 'chunked body not ended by CRLF (RFC 9112 §7.1)');
        this.#state = DONE;
    }
  }

  #fail(kind: ChunkedFailure['kind'], message: string): void {
    this.#state = FAILED;
    this.failure = { kind, message };
  }
}
