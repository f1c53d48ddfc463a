/**
 * Property test: 20,000 random and mutated inputs (seeded, so a failure reproduces: the
 * message names the seed and the case number) fed whole and in random splits. The parser
 * must never throw, report errors only as UwsgiProtocolError through onError, give the
 * same events however the input is split, and keep its event grammar:
 * head (body)* end [error: trailing-bytes]  |  [head (body)*] error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UwsgiRequestParser } from '../../../src/protocol/uwsgi/request-parser.js';
import { RawHttpResponseParser } from '../../../src/protocol/uwsgi/client.js';
import { UpstreamResponseError, UwsgiProtocolError, type UwsgiParserLimits } from '../../../src/protocol/uwsgi/types.js';
import { packet, u16 } from './feed.js';
import { NGINX_CHUNKED_PUT, NGINX_GET, NGINX_POST, UWSGI_RESPONSE_LENGTH, UWSGI_RESPONSE_STREAM } from './fixtures.js';
import { Prng } from '../../../bench/lib/fuzz/prng.js';

const SEED = 20240611;
const CASES = 20_000;
const KEYS = ['CONTENT_LENGTH', 'PATH_INFO', 'REQUEST_METHOD', 'HTTP_HOST', 'QUERY_STRING', 'X', ''];
const LENGTHS = ['', '0', '3', '10', '007', '-1', '1e2', '99999999999999999', ' 4', '65536'];

/** One input: a valid packet, a mutated one, or random bytes. */
function generate(prng: Prng): Buffer {
  const kind = prng.below(10);
  if (kind === 0) return prng.bytes(prng.below(64));
  let input: Buffer;
  if (kind < 4) {
    input = prng.pick([NGINX_GET, NGINX_POST, NGINX_CHUNKED_PUT]);
  } else {
    const vars: string[] = [];
    for (let i = prng.below(5); i > 0; i--) {
      const key = prng.pick(KEYS) || (prng.below(4) === 0 ? '' : 'K');
      vars.push(key, key === 'CONTENT_LENGTH' ? prng.pick(LENGTHS) : 'v'.repeat(prng.below(40)));
    }
    input = Buffer.concat([packet(vars, '', prng.below(4) === 0 ? prng.below(256) : 0, prng.below(256)), prng.bytes(prng.below(16))]);
  }
  return prng.below(3) === 0 ? input : mutate(prng, input);
}

function mutate(prng: Prng, input: Buffer): Buffer {
  const out = Buffer.from(input);
  const at = (): number => prng.below(Math.max(1, out.length));
  for (let n = 1 + prng.below(3); n > 0; n--) {
    switch (prng.below(5)) {
      case 0:
        if (out.length > 0) out[at()] = prng.below(256);
        break;
      case 1:
        if (out.length >= 4) u16(prng.below(65536)).copy(out, prng.below(out.length - 1));
        break;
      case 2:
        return out.subarray(0, at());
      case 3:
        return Buffer.concat([out, prng.bytes(1 + prng.below(8))]);
      default:
        if (out.length > 3) out.writeUInt16LE(prng.below(out.length + 8), 1); // the datasize
    }
  }
  return out;
}

type Ev = readonly [string, ...unknown[]];

function runRequest(chunks: readonly Buffer[], limits: UwsgiParserLimits): Ev[] {
  const events: Ev[] = [];
  let body = '';
  const parser = new UwsgiRequestParser(
    {
      onHead: (h) => events.push(['head', h.modifier1, h.modifier2, [...h.vars], h.contentLength, h.varsBytes]),
      onBody: (chunk) => {
        assert.ok(chunk.length > 0, 'empty body chunk');
        body += chunk.toString('latin1');
      },
      onMessageEnd: () => events.push(['end', body]),
      onError: (e) => {
        assert.ok(e instanceof UwsgiProtocolError, `onError got ${String(e)}`);
        events.push(['error', e.reason, e.status]);
      },
    },
    limits,
  );
  for (const chunk of chunks) parser.execute(chunk);
  parser.finish();
  return events;
}

function checkGrammar(events: readonly Ev[]): void {
  const types = events.map((e) => e[0]).join(' ');
  assert.match(types, /^(head end( error)?|(head )?error|)$/, types);
  const head = events[0];
  const end = events[1];
  if (head?.[0] === 'head' && end?.[0] === 'end') assert.equal((end[1] as string).length, head[4], 'body length = contentLength');
  if (events.length === 3) assert.equal(events[2]?.[1], 'trailing-bytes');
}

test(`fuzz: ${CASES} random/mutated packets, whole vs split vs byte by byte (seed ${SEED})`, () => {
  const prng = new Prng(SEED);
  const seen = new Set<string>();
  for (let i = 0; i < CASES; i++) {
    const limits = { maxVarsBytes: prng.pick([0, 16, 600, 4096, 65535]), maxBodyBytes: prng.pick([0, 5, 1 << 20]) };
    const input = generate(prng);
    const context = `seed ${SEED}, case ${i}, input ${input.toString('hex').slice(0, 200)}`;
    try {
      const whole = runRequest([input], limits);
      checkGrammar(whole);
      assert.deepEqual(runRequest(prng.split(input), limits), whole, 'random split');
      if (i % 20 === 0) assert.deepEqual(runRequest([...input].map((b) => Buffer.from([b])), limits), whole, 'byte by byte');
      seen.add(whole.map((e) => (e[0] === 'error' ? e[1] : e[0])).join(' '));
    } catch (error) {
      assert.fail(`${context}: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
  // The generator reaches every outcome, or the property above proves little.
  for (const outcome of ['head end', 'head end trailing-bytes', 'truncated', 'bad-length', 'empty-key', 'vars-too-large', 'body-too-large', 'bad-content-length', 'head truncated']) {
    assert.ok(seen.has(outcome), `outcome '${outcome}' never generated: ${[...seen].join(', ')}`);
  }
});

test('fuzz: 5,000 mutated upstream responses never throw, and split like whole', () => {
  const prng = new Prng(SEED + 1);
  const bases = [
    UWSGI_RESPONSE_LENGTH,
    UWSGI_RESPONSE_STREAM,
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n',
  ].map((s) => Buffer.from(s, 'latin1'));
  const run = (chunks: readonly Buffer[]): unknown[] => {
    const events: unknown[] = [];
    const parser = new RawHttpResponseParser(
      {
        onHead: (h) => events.push(['head', h.statusCode, [...h.headers], h.framing]),
        onBody: (b) => events.push(['body', b.toString('latin1')]),
        onMessageEnd: () => events.push(['end']),
        onError: (e) => {
          assert.ok(e instanceof UpstreamResponseError);
          events.push(['error', e.reason]);
        },
      },
      { maxHeadBytes: 256 },
    );
    for (const chunk of chunks) parser.execute(chunk);
    parser.finish();
    // Body pieces depend on the split; their concatenation may not.
    const merged: unknown[] = [];
    for (const e of events) {
      const last = merged[merged.length - 1] as [string, string] | undefined;
      if ((e as string[])[0] === 'body' && last?.[0] === 'body') last[1] += (e as string[])[1];
      else merged.push(Array.isArray(e) ? [...e] : e);
    }
    return merged;
  };
  for (let i = 0; i < 5000; i++) {
    const input = i % 10 === 0 ? prng.bytes(prng.below(64)) : mutate(prng, prng.pick(bases));
    try {
      const whole = run([input]);
      assert.deepEqual(run(prng.split(input)), whole);
    } catch (error) {
      assert.fail(`seed ${SEED + 1}, case ${i}, input ${JSON.stringify(input.toString('latin1'))}: ${String(error)}`);
    }
  }
});
