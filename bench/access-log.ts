/**
 * The access log's cost per line, in process: 10^6 lines of each shape (uWSGI's default line, a
 * 10-variable log-format, log-json) for an HTTP and a uwsgi exchange, best and median of 5 runs.
 * Run: bash scripts/build.sh && node dist/bench/access-log.js
 */
import { AccessLog, type AccessLogOptions } from '../src/log/access-log.js';
import { httpExchange, uwsgiExchange } from '../test/log/fake-exchange.js';

const exchanges = [
  httpExchange({ target: '/articles/2026/11/some-slug?page=2', headers: ['Host', 'localhost:8000', 'User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', 'Referer', 'https://example.com/'] }),
  uwsgiExchange(['REQUEST_METHOD', 'GET', 'REQUEST_URI', '/articles/2026/11/some-slug?page=2', 'PATH_INFO', '/articles/2026/11/some-slug', 'QUERY_STRING', 'page=2',
    'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '10.1.2.3', 'HTTP_HOST', 'example.com', 'HTTP_USER_AGENT', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0']),
];
const SHAPES: Record<string, Pick<AccessLogOptions, 'format' | 'json'>> = {
  default: { format: null, json: false },
  'log-format': { format: '%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)"', json: false },
  'log-json': { format: null, json: true },
};
const LINES = 1_000_000;

let sink = 0;
for (const [name, shape] of Object.entries(SHAPES)) {
  const log = new AccessLog({ ...shape, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  const line = (i: number): number => log.line(exchanges[i & 1]!, 1, i, 1001, 1_700_000_000_000 + i)!.length;
  for (let i = 0; i < 200_000; i++) sink += line(i);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < LINES; i++) sink += line(i);
    runs.push(Number(process.hrtime.bigint() - t0) / LINES);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name}: ${runs[0]!.toFixed(0)} ns/line best, ${runs[2]!.toFixed(0)} median`);
}
if (sink === 0) console.log('(nothing rendered)');
