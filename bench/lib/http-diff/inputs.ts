/**
 * Inputs for the differential fuzz of the two HTTP request parsers: heads assembled from
 * pieces near the rules' edges (target forms, Host, framing, field syntax, chunked coding),
 * and valid requests mutated byte by byte (bench/lib/fuzz/mutate.ts). One seed, one sequence.
 */
import { validHttpRequest } from '../fuzz/corpus.js';
import { mutate } from '../fuzz/mutate.js';
import type { Prng } from '../fuzz/prng.js';
import type { VerdictLimits } from './verdict.js';

const METHODS = ['GET', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'PUT', 'get', 'M-SEARCH', 'G(T', ''];
const TARGETS = [
  '/', '/a?b=c', '/%7E/x', '/caf\xc3\xa9', '*', 'example.com:443', 'example.com', 'http://h.test/x?y', 'https://h.test',
  'http://h.test?q', 'http:///x', 'http://u@h.test/', 'HTTP://H.TEST:80/', 'urn:x', 'foo', '/a b', '/a\x00', '/#f', '[::1]:80', 'h:',
];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/1.9', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.10', 'HTTP/1.1 ', ''];
const FIELDS = [
  'Host: example.com', 'Host: [::1]:8080', 'Host:', 'Host: a:b:c', 'Host: h/x', 'Host: [::1', 'Host: h:8x', 'Host: u@h',
  'Content-Length: 5', 'Content-Length: 0', 'Content-Length: 007', 'Content-Length: 5, 5', 'Content-Length: +5', 'Content-Length: 99999999999999999',
  'Content-Length: 11', 'Transfer-Encoding: chunked', 'Transfer-Encoding: Chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, gzip',
  'Transfer-Encoding: ,', 'Transfer-Encoding: identity', 'Connection: close', 'Connection: keep-alive', 'Connection: a, Close', 'Expect: 100-continue',
  'X-A: b', 'X-A:  spaced  ', 'X-A : b', ' folded', ': empty', 'X@A: b', 'X-A: b\x00', 'X-A: b\x01', 'X-A: b\rc', 'X-A: caf\xe9', 'X_A: u', 'NoColon',
];
const CHUNKED_BODIES = [
  '5\r\nhello\r\n0\r\n\r\n', '0\r\n\r\n', 'A\r\n0123456789\r\n0\r\n\r\n', '5 ;a=b\r\nhello\r\n0\r\n\r\n', '5;a\x01\r\nhello\r\n0\r\n\r\n', '5 x\r\nhello\r\n0\r\n\r\n',
  '0x5\r\nhello\r\n0\r\n\r\n', '20000000000000\r\n', '00000000000000005\r\nhello\r\n0\r\n\r\n', '3\r\nhello\r\n0\r\n\r\n', '5\nhello\r\n0\r\n\r\n',
  '0\r\nX-T: v\r\n\r\n', '0\r\nX-T : v\r\n\r\n', '0\r\n folded\r\n\r\n', '0\r\nX-T: v\x00\r\n\r\n', 'b\r\nhello world\r\n0\r\n\r\n', '5\r\nhel',
];
const LINE_ENDS = ['\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\n', '\r'];

export interface DiffInput {
  readonly bytes: Buffer;
  readonly limits: VerdictLimits;
  /** How it was made, for the report of a disagreement. */
  readonly recipe: string;
}

function assembled(rng: Prng): { text: string; recipe: string } {
  const eol = (): string => rng.pick(LINE_ENDS);
  const lead = rng.below(6) === 0 ? '\r\n'.repeat(1 + rng.below(3)) : '';
  let text = `${lead}${rng.pick(METHODS)} ${rng.pick(TARGETS)} ${rng.pick(VERSIONS)}${eol()}`;
  const fields = Array.from({ length: rng.below(5) }, () => rng.pick(FIELDS));
  if (rng.below(4) !== 0) fields.splice(rng.below(fields.length + 1), 0, 'Host: example.com');
  for (const f of fields) text += `${f}${eol()}`;
  text += '\r\n';
  if (fields.some((f) => f.startsWith('Transfer-Encoding'))) text += rng.pick(CHUNKED_BODIES);
  else if (fields.some((f) => f.startsWith('Content-Length'))) text += 'hello';
  return { text, recipe: `assembled ${JSON.stringify(text)}` };
}

/** The `index`-th input of a run. */
export function diffInput(index: number, rng: Prng, tableRequests: readonly string[]): DiffInput {
  const limits = {
    maxHeadBytes: rng.pick([48, 64, 128, 8192, 8192, 8192]),
    maxBodyBytes: rng.pick([0, 0, 10, 1 << 20]),
  };
  const kind = rng.below(3);
  if (kind === 0) {
    const { text, recipe } = assembled(rng);
    return { bytes: Buffer.from(text, 'latin1'), limits, recipe };
  }
  const base = kind === 1 ? validHttpRequest(index, rng).bytes : Buffer.from(rng.pick(tableRequests), 'latin1');
  const mutated = mutate(base, rng);
  return { bytes: mutated.bytes, limits, recipe: `mutated ${JSON.stringify(base.toString('latin1'))}: ${mutated.steps.join(', ')}` };
}
