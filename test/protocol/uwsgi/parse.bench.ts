/**
 * Micro-benchmark of the uwsgi codecs (not a test: run it with
 * `node <dist>/test/protocol/uwsgi/parse.bench.js`). Prints nanoseconds per operation.
 * Under the test runner it does nothing (see ../micro-bench.ts).
 */
import { UwsgiRequestParser } from '../../../src/protocol/uwsgi/request-parser.js';
import { encodeUwsgiRequest, RawHttpResponseParser } from '../../../src/protocol/uwsgi/client.js';
import { sniffProtocol } from '../../../src/protocol/uwsgi/sniff.js';
import type { UwsgiRequestHead } from '../../../src/protocol/uwsgi/types.js';
import { NGINX_GET, NGINX_POST, UWSGI_RESPONSE_LENGTH } from './fixtures.js';
import { bench as timeIt, runUnlessUnderTest } from '../micro-bench.js';

let sink = 0;
const handler = {
  onHead: (head: UwsgiRequestHead | { headers: readonly string[] }) => {
    sink += 'vars' in head ? head.vars.length : head.headers.length;
  },
  onBody: (chunk: Buffer) => {
    sink += chunk.length;
  },
  onMessageEnd: () => {},
  onError: (e: Error) => {
    throw e;
  },
};

function bench(name: string, iterations: number, fn: () => void): void {
  timeIt(name, iterations, fn, 52);
}

function main(): void {
  const limits = { maxVarsBytes: 4096, maxBodyBytes: 0 };
  // One request per connection: every packet gets a new parser, as in the front.
  bench(`parse nginx POST (${NGINX_POST.length} B, 19 vars + body)`, 500_000, () => new UwsgiRequestParser(handler, limits).execute(NGINX_POST));
  bench(`parse nginx GET (${NGINX_GET.length} B, 20 vars)`, 500_000, () => new UwsgiRequestParser(handler, limits).execute(NGINX_GET));
  const half = NGINX_GET.length >> 1;
  const [a, b] = [NGINX_GET.subarray(0, half), NGINX_GET.subarray(half)];
  bench('parse nginx GET split in two chunks', 500_000, () => {
    const parser = new UwsgiRequestParser(handler, limits);
    parser.execute(a);
    parser.execute(b);
  });
  let vars: readonly string[] = [];
  new UwsgiRequestParser({ ...handler, onHead: (h) => (vars = h.vars) }, limits).execute(NGINX_GET);
  bench('encodeUwsgiRequest (the nginx GET vars)', 500_000, () => {
    sink += encodeUwsgiRequest(vars).length;
  });
  bench('sniffProtocol (nginx GET)', 2_000_000, () => {
    sink += sniffProtocol(NGINX_GET).length;
  });
  const response = Buffer.from(UWSGI_RESPONSE_LENGTH);
  bench(`parse uWSGI response (${response.length} B, Content-Length)`, 1_000_000, () => {
    new RawHttpResponseParser(handler, { maxHeadBytes: 4096 }).execute(response);
  });
  if (sink === 42) console.log('');
}

runUnlessUnderTest(main);
