/**
 * Micro-benchmark of the request parser and the response planner (not a test: run it with
 * `node <dist>/test/protocol/http1/parse.bench.js`). Prints nanoseconds per operation.
 * Under the test runner it does nothing (see ../micro-bench.ts).
 */
import { RequestParser } from '../../../src/protocol/http1/request-parser.js';
import { planResponse } from '../../../src/protocol/http1/response.js';
import type { RequestHead } from '../../../src/protocol/http1/types.js';
import { bench as timeIt, runUnlessUnderTest } from '../micro-bench.js';

const BROWSER_GET = Buffer.from(
  'GET /articles/2024/hello-world?ref=home HTTP/1.1\r\n' +
    'Host: www.example.com\r\n' +
    'Connection: keep-alive\r\n' +
    'sec-ch-ua: "Chromium";v="124", "Not-A.Brand";v="99"\r\n' +
    'sec-ch-ua-mobile: ?0\r\n' +
    'sec-ch-ua-platform: "Linux"\r\n' +
    'Upgrade-Insecure-Requests: 1\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n' +
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n' +
    'Sec-Fetch-Site: same-origin\r\n' +
    'Sec-Fetch-Mode: navigate\r\n' +
    'Sec-Fetch-Dest: document\r\n' +
    'Referer: https://www.example.com/\r\n' +
    'Accept-Encoding: gzip, deflate, br\r\n' +
    'Accept-Language: en-US,en;q=0.9\r\n' +
    'Cookie: sessionid=abcdef0123456789; csrftoken=0123456789abcdef\r\n\r\n',
);
const WRK_GET = Buffer.from('GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: wrk/4.2\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n');

let sink = 0;
const handler = {
  onHead: (head: RequestHead) => {
    sink += head.headers.length;
  },
  onBody: () => {},
  onMessageEnd: () => {},
  onError: (e: Error) => {
    throw e;
  },
};

function bench(name: string, iterations: number, fn: () => void): void {
  timeIt(name, iterations, fn, 48);
}

function main(): void {
  const limits = { maxHeadBytes: 8192, maxBodyBytes: 0 };
  const parser = new RequestParser(handler, limits);
  bench(`parse browser GET (${BROWSER_GET.length} B), kept-alive parser`, 500_000, () => parser.execute(BROWSER_GET));
  bench(`parse wrk GET (${WRK_GET.length} B), kept-alive parser`, 1_000_000, () => parser.execute(WRK_GET));
  bench(`parse wrk GET (${WRK_GET.length} B), new parser each time`, 1_000_000, () => new RequestParser(handler, limits).execute(WRK_GET));
  const half = WRK_GET.length >> 1;
  const [a, b] = [WRK_GET.subarray(0, half), WRK_GET.subarray(half)];
  bench(`parse wrk GET split in two chunks`, 500_000, () => {
    parser.execute(a);
    parser.execute(b);
  });
  const req = { method: 'GET', versionMinor: 1 as const, keepAlive: true };
  const appHeaders = ['Content-Type', 'text/html; charset=utf-8', 'Content-Length', '1234', 'X-Frame-Options', 'DENY', 'Vary', 'Cookie'];
  const opts = { date: 'Sun, 06 Nov 1994 08:49:37 GMT' };
  bench('planResponse (Django-like, 4 headers)', 1_000_000, () => {
    const plan = planResponse(req, '200 OK', appHeaders, opts);
    sink += 'head' in plan ? plan.head.length : 0;
  });
  if (sink === 42) console.log('');
}

runUnlessUnderTest(main);
