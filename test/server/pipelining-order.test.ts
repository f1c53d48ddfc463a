/**
 * Pipelined requests keep their side effects in order (RFC 9112 §9.3.2, RFC 9110 §9.2.1):
 * a request whose method is not safe starts only after every earlier request on the
 * connection has finished, and nothing after it starts before it has finished; safe
 * requests may overlap. A real worker app records when each request starts and ends.
 */
import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { exchangeRaw, statuses } from '../helpers/raw-http.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** One pipelined request: method, seconds the app sleeps, body (null: none, 'chunked:…': chunked). */
type Step = readonly [method: string, sleepSeconds: number, body: string | null];

const ORDERINGS: Record<string, readonly Step[]> = {
  'POST (body) + GET + DELETE': [['POST', 0.2, 'item=1'], ['GET', 0, null], ['DELETE', 0, null]],
  'slow GET + GET + POST + GET': [['GET', 0.3, null], ['GET', 0, null], ['POST', 0, 'x'], ['GET', 0, null]],
  'DELETE + chunked PUT + GET + PATCH': [['DELETE', 0.2, null], ['PUT', 0, 'chunked:abc'], ['GET', 0, null], ['PATCH', 0.1, 'p']],
  'GETs only': [['GET', 0.2, null], ['GET', 0, null], ['HEAD', 0, null]],
};

function raw(steps: readonly Step[]): string {
  return steps
    .map(([method, s, body], i) => {
      const close = i === steps.length - 1 ? 'Connection: close\r\n' : '';
      const head = `${method} /cart?id=${i}&s=${s} HTTP/1.1\r\nHost: x\r\n${close}`;
      if (body === null) return `${head}\r\n`;
      if (body.startsWith('chunked:')) {
        const data = body.slice('chunked:'.length);
        return `${head}Transfer-Encoding: chunked\r\n\r\n${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`;
      }
      return `${head}Content-Length: ${body.length}\r\n\r\n${body}`;
    })
    .join('');
}

/** Checks the recorded "start i" / "end i" lines against the rule; returns the violations. */
function violations(steps: readonly Step[], lines: readonly string[]): string[] {
  const at = (what: string): number => lines.indexOf(what);
  const problems: string[] = [];
  steps.forEach(([method], i) => {
    if (SAFE.has(method)) return;
    for (let j = 0; j < steps.length; j++) {
      if (j < i && at(`end ${j}`) > at(`start ${i}`)) problems.push(`${method} #${i} started before #${j} ended`);
      if (j > i && at(`start ${j}`) < at(`end ${i}`)) problems.push(`#${j} started before ${method} #${i} ended`);
    }
  });
  return problems;
}

// Both paths: the master's (it parses and orders) and the direct one (the workers serve a
// connection's requests themselves; with 2 threads a slow request's pipelined followers once
// waited for the connection to come back to the selector).
for (const [processes, threads, direct] of [[1, 1, false], [2, 2, false], [1, 2, true], [2, 2, true]] as const) {
  describe(`pipelining with ${processes} process(es) × ${threads} thread(s)${direct ? ', http-direct' : ''}`, () => {
    let berth: RunningBerth;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-sidefx-'));
      berth = await startBerth([
        '--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'sidefx', '--processes', String(processes),
        '--threads', String(threads), `--http-direct=${direct}`, '--python', debianPython(), '--env', `SIDEFX_LOG=${join(dir, 'log')}`,
      ]);
    });
    after(async () => {
      await berth?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const [name, steps] of Object.entries(ORDERINGS)) {
      test(`${name}: unsafe requests run alone, in request order`, async () => {
        const log = join(dir, 'log');
        writeFileSync(log, '');
        const { text } = await exchangeRaw(berth.port, raw(steps), 5000);
        assert.deepEqual(statuses(text), steps.map(() => 200), text);
        const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
        assert.equal(lines.length, 2 * steps.length, lines.join('\n'));
        assert.deepEqual(violations(steps, lines), [], lines.join('\n'));
        // Responses come back in request order, each for its own request.
        const order = [...text.matchAll(/^[A-Z]+ (\d+) \d+$/gm)].map((m) => Number(m[1]));
        assert.deepEqual(order, steps.flatMap(([m], i) => (m === 'HEAD' ? [] : [i])));
      });
    }
  });
}
