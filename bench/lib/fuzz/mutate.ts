/**
 * Byte-level mutations of a valid request: flips, insertions of CR/LF/NUL/high bytes,
 * deletions, truncations, duplicated slices (repeated headers or vars), huge lengths, and
 * the split points at which the result is written (a request split across writes).
 */
import type { Prng } from './prng.js';

const INSERTS = ['\r', '\n', '\r\n', '\0', '\xff', '\x80', ' ', '\t', ':', '\r\n\r\n', '\r\n[pid: 1|forged] line\r\n', '%00', '\xc3\xa9'];

export interface MutatedInput {
  readonly bytes: Buffer;
  /** What was done, for the failure message of a seed. */
  readonly steps: readonly string[];
  /** Offsets at which the bytes are split into separate writes (ascending). */
  readonly splits: readonly number[];
}

export function mutate(valid: Buffer, rng: Prng): MutatedInput {
  let bytes = Buffer.from(valid);
  const steps: string[] = [];
  // One input in five stays valid: the oracles must also see well-formed traffic served.
  const count = rng.below(5) === 0 ? 0 : 1 + rng.below(3);
  for (let n = 0; n < count; n++) {
    const at = rng.below(bytes.length + 1);
    switch (rng.below(8)) {
      case 0: {
        if (bytes.length === 0) break;
        const i = Math.min(at, bytes.length - 1);
        const bit = 1 << rng.below(8);
        bytes[i] = (bytes[i] as number) ^ bit;
        steps.push(`flip bit ${bit} at ${i}`);
        break;
      }
      case 1:
      case 2: {
        const ins = rng.pick(INSERTS);
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(ins, 'latin1'), bytes.subarray(at)]);
        steps.push(`insert ${JSON.stringify(ins)} at ${at}`);
        break;
      }
      case 3: {
        const len = 1 + rng.below(8);
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + len)]);
        steps.push(`delete ${len} at ${at}`);
        break;
      }
      case 4:
        bytes = bytes.subarray(0, at);
        steps.push(`truncate at ${at}`);
        break;
      case 5: {
        const len = 1 + rng.below(40);
        const slice = bytes.subarray(at, at + len);
        bytes = Buffer.concat([bytes.subarray(0, at + len), slice, bytes.subarray(at + len)]);
        steps.push(`duplicate ${slice.length} bytes at ${at}`);
        break;
      }
      case 6: {
        const digits = rng.pick(['99999999999999999999', '4294967296', '65535', '9007199254740993', '-1', '0']);
        const i = bytes.indexOf('Content-Length: ') >= 0 ? bytes.indexOf('Content-Length: ') + 16 : at;
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(digits), bytes.subarray(i)]);
        steps.push(`huge length ${digits} at ${i}`);
        break;
      }
      default: {
        if (bytes.length < 4) break;
        // A uwsgi datasize or key length (u16 LE) set to an extreme.
        const i = Math.min(at, bytes.length - 2);
        const v = rng.pick([0, 1, 0xffff, 0x7fff, 0x100]);
        bytes.writeUInt16LE(v, i);
        steps.push(`u16 ${v} at ${i}`);
      }
    }
  }
  const splits: number[] = [];
  if (bytes.length > 1 && rng.below(2) === 0) {
    const pieces = 1 + rng.below(4);
    for (let i = 0; i < pieces; i++) splits.push(1 + rng.below(bytes.length - 1));
    splits.sort((a, b) => a - b);
    steps.push(`written in ${pieces + 1} pieces at ${splits.join(',')}`);
  }
  return { bytes, steps, splits };
}
