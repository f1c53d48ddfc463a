/**
 * The differential fuzz of the two HTTP request parsers: the same inputs to the master's codec
 * (in process) and to the worker's parser (one Python process, JSON lines over a pipe), and
 * the verdicts compared — the status of a refusal, or every parsed field and the environ each
 * path builds (the master's block, the direct path's build_environ), under no mountpoint or "/a".
 */
import { spawn } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { Prng } from '../fuzz/prng.js';
import { diffInput, type DiffInput } from './inputs.js';
import { feeds, tsVerdict, type EnvironFacts, type Verdict } from './verdict.js';

export interface Disagreement {
  readonly index: number;
  readonly input: DiffInput;
  readonly feed: string;
  readonly ts: Verdict;
  readonly python: Verdict;
}

export interface DiffReport {
  readonly inputs: number;
  /** Verdicts seen, e.g. { parsed: 310, incomplete: 40, 400: 600, 431: 12 }. */
  readonly verdicts: Readonly<Record<string, number>>;
  /** Parsed inputs whose environ was built and compared (the rest decode to a NUL: 400 on both). */
  readonly environs: number;
  readonly disagreements: readonly Disagreement[];
}

export interface DiffOptions {
  readonly seed: number;
  readonly count: number;
  readonly python: string;
  /** Also feed every n-th input one byte at a time to both (0 = never). */
  readonly byByteEvery: number;
  readonly tableRequests: readonly string[];
}

const PEER = join(process.cwd(), 'test', 'python', 'http_verdict.py');

/** The listener and peer of every fuzzed request (the rulebook table's). */
const CONNECTION = { local_address: '127.0.0.1', local_port: 8080, remote_address: '127.0.0.2', remote_port: 50000 };
/** Even inputs have no mountpoint, odd ones "/a" (the table's paths often start with it). */
const MOUNTS = [[], ['/a']] as const;

function factsOf(index: number): EnvironFacts {
  const c = CONNECTION;
  return {
    connection: { localAddress: c.local_address, localPort: c.local_port, remoteAddress: c.remote_address, remotePort: c.remote_port, scheme: 'http' },
    mounts: MOUNTS[index % 2]!,
  };
}

function kindOf(v: Verdict): string {
  if (v === 'incomplete') return 'incomplete';
  return 'status' in v ? String(v.status) : 'parsed';
}

export async function runDiff(options: DiffOptions): Promise<DiffReport> {
  const rng = new Prng(options.seed);
  const inputs: DiffInput[] = [];
  for (let i = 0; i < options.count; i++) inputs.push(diffInput(i, rng, options.tableRequests));
  const peer = spawn(options.python, ['-I', PEER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => peer.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: peer.stdout });
  const answers: { whole: Verdict; by_byte: Verdict }[] = [];
  lines.on('line', (line) => answers.push(JSON.parse(line) as { whole: Verdict; by_byte: Verdict }));
  inputs.forEach((input, i) => {
    const byByte = options.byByteEvery > 0 && i % options.byByteEvery === 0;
    peer.stdin.write(`${JSON.stringify({ hex: input.bytes.toString('hex'), max_head: input.limits.maxHeadBytes, max_body: input.limits.maxBodyBytes, by_byte: byByte, facts: { connection: CONNECTION, mounts: MOUNTS[i % 2] } })}\n`);
  });
  peer.stdin.end();
  const code = await exited;
  if (code !== 0 || answers.length !== inputs.length) {
    throw new Error(`the Python parser peer (${options.python} ${PEER}) exited with ${code} after ${answers.length} of ${inputs.length} answers`);
  }
  const verdicts: Record<string, number> = {};
  const disagreements: Disagreement[] = [];
  let environs = 0;
  inputs.forEach((input, i) => {
    const { whole, byByte } = feeds(input.bytes);
    const ts = tsVerdict(whole, input.limits, factsOf(i));
    const answer = answers[i]!;
    verdicts[kindOf(ts)] = (verdicts[kindOf(ts)] ?? 0) + 1;
    if (typeof ts === 'object' && 'environ' in ts && ts.environ !== undefined && !('status' in ts.environ)) environs++;
    if (!isDeepStrictEqual(ts, answer.whole)) disagreements.push({ index: i, input, feed: 'whole', ts, python: answer.whole });
    if (options.byByteEvery > 0 && i % options.byByteEvery === 0) {
      const tsByte = tsVerdict(byByte, input.limits, factsOf(i));
      if (!isDeepStrictEqual(tsByte, ts)) disagreements.push({ index: i, input, feed: 'TS byte by byte vs whole', ts: tsByte, python: ts });
      if (!isDeepStrictEqual(answer.by_byte, ts)) disagreements.push({ index: i, input, feed: 'byte by byte', ts, python: answer.by_byte });
    }
  });
  return { inputs: inputs.length, verdicts, environs, disagreements };
}

export function describeDisagreement(d: Disagreement): string {
  return [
    `input ${d.index} (${d.feed}, head limit ${d.input.limits.maxHeadBytes}, body limit ${d.input.limits.maxBodyBytes}): ${d.input.recipe}`,
    `  bytes: ${JSON.stringify(d.input.bytes.toString('latin1'))}`,
    `  TypeScript: ${JSON.stringify(d.ts)}`,
    `  Python:     ${JSON.stringify(d.python)}`,
  ].join('\n');
}
