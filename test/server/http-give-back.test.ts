/**
 * A connection given back to the workers (HttpConnection.giveBack: http-direct's 'busy' and
 * 'stop' hand-overs): the real HTTP front on a loopback port, with a stand-in app the test
 * answers by hand, so the order in which answers complete is the test's. The answer to the last
 * request received says `Connection: close` and the connection closes after it; answers to
 * requests with more queued behind them, or with a next head begun, keep it open.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { HttpFront } from '../../src/server/http-front.js';
import { ScriptNameRule } from '../../src/server/script-name.js';
import { SpoolBudget } from '../../src/server/spool-budget.js';
import type { Exchange } from '../../src/server/exchange.js';
import { configFrom } from '../static/harness.js';

interface Served {
  readonly port: number;
  /** Requests the stand-in app received, not yet answered. */
  readonly waiting: Exchange[];
  /** Resolves once `n` requests have reached the app. */
  arrived(n: number): Promise<void>;
}

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(givesBack: boolean): Promise<Served> {
  const config = configFrom([]);
  const waiting: Exchange[] = [];
  let wake: (() => void) | null = null;
  const front = new HttpFront({
    config,
    scriptNames: new ScriptNameRule([]),
    spool: new SpoolBudget(config.spoolLimitBytes),
    dispatch: (ex) => {
      waiting.push(ex);
      wake?.();
    },
    exchangeDone: () => undefined,
    log: () => undefined,
  });
  const server = net.createServer((s) => {
    sockets.add(s);
    front.accept(s, 'http', null, undefined, null, givesBack);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const arrived = async (n: number): Promise<void> => {
    while (waiting.length < n) await new Promise<void>((resolve) => (wake = resolve));
  };
  return { port: (server.address() as net.AddressInfo).port, waiting, arrived };
}

/** A client that keeps what it reads and notes the close. */
async function client(port: number): Promise<{ socket: net.Socket; text: () => string; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.add(socket);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (t: string) => (text += t));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, text: () => text, closed };
}

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: site\r\n\r\n`;
const answer = (ex: Exchange): void => ex.responder.sendFull('200 OK', ['Content-Type', 'text/plain'], Buffer.from(`app ${ex.request.target}\n`));
const closes = (text: string): boolean[] => text.split('HTTP/1.1 200 OK').slice(1).map((h) => /\r\nConnection: close\r\n/i.test(h));

test('pipelined requests answered out of order: both answers in order, only the last closes, then the connection closes', async () => {
  const s = await serve(true);
  const c = await client(s.port);
  c.socket.write(GET('/one') + GET('/two'));
  await s.arrived(2);
  answer(s.waiting[1]!); // the second completes first: it waits behind the first
  answer(s.waiting[0]!);
  await c.closed;
  assert.match(c.text(), /app \/one\n[\s\S]*app \/two\n/);
  assert.deepEqual(closes(c.text()), [false, true]);
});

test('an answer while the next request head is only begun keeps the connection; the next answer closes it', async () => {
  const s = await serve(true);
  const c = await client(s.port);
  c.socket.write(GET('/one') + 'GET /tw');
  await s.arrived(1);
  answer(s.waiting[0]!);
  c.socket.write('o HTTP/1.1\r\nHost: site\r\n\r\n');
  await s.arrived(2);
  answer(s.waiting[1]!);
  await c.closed;
  assert.deepEqual(closes(c.text()), [false, true]);
  assert.match(c.text(), /app \/two\n$/);
});

test('a connection not given back stays open after the same answers', async () => {
  const s = await serve(false);
  const c = await client(s.port);
  c.socket.write(GET('/one') + GET('/two'));
  await s.arrived(2);
  answer(s.waiting[1]!);
  answer(s.waiting[0]!);
  // A third request on the same connection is served: it was kept.
  c.socket.write(GET('/three'));
  await s.arrived(3);
  answer(s.waiting[2]!);
  c.socket.end();
  await c.closed;
  assert.deepEqual(closes(c.text()), [false, false, false]);
  assert.match(c.text(), /app \/three\n$/);
});
