/**
 * http-direct under concurrent hand-overs: 4 workers × 2 threads, 200 slow clients at once (each
 * head sent in two parts, so every one is handed to the master as its descriptor over the
 * zygote's one IPC channel, shared by all the workers) while fast keep-alive clients are served
 * by the workers. Every connection must be answered, by the path expected, none lost; an
 * interleaved hand-over line would break Node's JSON-lines channel and lose connections.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';

const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) await b.stop();
});

const SLOW = 200;
const FAST_CLIENTS = 16;
const FAST_REQUESTS = 20;
const BODY = /via=(\S+) pid=\d+ path=(\S+) body=/g;

/** One connection: writes each part (pausing between them), reads until `count` bodies came or it closed. */
function client(port: number, parts: readonly string[], pauseMs: number, count: number): Promise<{ bodies: [string, string][]; text: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const bodies = (): [string, string][] => [...text.matchAll(BODY)].map((m) => [m[1]!, m[2]!]);
    const timer = setTimeout(() => finish(), 60_000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ bodies: bodies(), text });
    };
    socket.setEncoding('latin1');
    socket.on('data', (t: string) => {
      text += t;
      if (bodies().length >= count) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, pauseMs));
        if (!socket.destroyed) socket.write(parts[i]!);
      }
    });
  });
}

test('200 slow clients handed over at once by 4 workers × 2 threads, with fast clients beside them: every connection answered, none lost', async () => {
  const b = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython(),
    '--processes', '4', '--threads', '2', '--listen', '1024', '--http-direct']);
  running.push(b);
  const slow = Array.from({ length: SLOW }, (_, i) => {
    const head = `GET /slow${i} HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n`;
    return client(b.port, [head.slice(0, 12), head.slice(12)], 300, 1);
  });
  const fast = Array.from({ length: FAST_CLIENTS }, async (_, c) => {
    const answers: [string, string][] = [];
    for (let i = 0; i < FAST_REQUESTS; i++) {
      const r = await client(b.port, [`GET /fast${c}-${i} HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n`], 0, 1);
      answers.push(r.bodies[0] ?? ['none', r.text.slice(0, 100)]);
    }
    return answers;
  });
  const slowAnswers = await Promise.all(slow);
  const fastAnswers = (await Promise.all(fast)).flat();

  const slowWrong = slowAnswers.map((r, i) => [i, r] as const).filter(([i, r]) => r.bodies.length !== 1 || r.bodies[0]![1] !== `/slow${i}` || r.bodies[0]![0] !== 'master');
  assert.deepEqual(slowWrong.map(([i, r]) => `slow ${i}: ${r.text.slice(0, 120)}`), [], 'every slow client answered by the master');
  assert.equal(fastAnswers.length, FAST_CLIENTS * FAST_REQUESTS);
  const fastWrong = fastAnswers.filter(([v, p]) => v === 'none' || !/^\/fast\d+-\d+$/.test(p));
  assert.deepEqual(fastWrong, [], 'every fast request answered');
  assert.ok(fastAnswers.some(([v]) => v === 'direct'), 'fast requests are served by the workers');
  assert.doesNotMatch(b.logs(), /hand-over line|handing an HTTP connection to the master failed|SyntaxError|Unexpected token/);

  // The channel still works after the burst: one more hand-over and one direct request.
  const after = await client(b.port, ['GET /late HTTP/1.1\r\n', 'Host: site\r\nConnection: close\r\n\r\n'], 200, 1);
  assert.deepEqual(after.bodies, [['master', '/late']]);
});

test('a handed-over connection keeps its ends: the worker sends them with the descriptor and the master serves with them', async () => {
  const b = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython(),
    '--processes', '1', '--http-direct']);
  running.push(b);
  const socket = connect(b.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const clientPort = socket.localPort!;
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (t: string) => { text += t; });
  const closed = new Promise<void>((resolve) => socket.once('close', resolve));
  // A head in two parts: the worker hands the connection over ('partial') before it is whole.
  socket.write('GET /who HTTP/1.1\r\n');
  await new Promise((r) => setTimeout(r, 300));
  socket.end('Host: site\r\nConnection: close\r\n\r\n');
  await closed;
  assert.match(text, new RegExp(`via=master pid=\\d+ addr=127\\.0\\.0\\.1 port=${clientPort} `));
});
