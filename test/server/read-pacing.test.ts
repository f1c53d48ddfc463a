// Read pacing on real sockets: a trickling head is read every PACE_MS yet answered whole; a head in
// a few quick segments is not paced; and through a real Berth (http-direct hands the slow
// connection to the master), paced requests are answered right, kept alive and pipelined after,
// and the head and body timeouts still fire. The master's reads are counted from /proc (syscr).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readWith, withSharedReads } from '../../src/server/shared-reads.js';
import { PACE_AFTER_READS, PACE_HANDED_AFTER_READS, ReadPacer, pacedStops, readPacerOf } from '../../src/server/read-pacing.js';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { openSocket, statuses } from '../helpers/raw-http.js';

const HEAD_END = '\r\n\r\n';
const TICK_MS = 10;

/** Writes `data` one byte per tick; resolves when the last byte is written. */
function trickle(socket: Socket, data: string, tickMs = TICK_MS): Promise<void> {
  return new Promise((resolve) => {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) i = data.length;
      else socket.write(data[i++]!);
      if (i >= data.length) {
        clearInterval(timer);
        resolve();
      }
    }, tickMs);
  });
}

/** Resolves with what the server sent once `until` holds for it, or it closed. */
function collect(socket: Socket, until: (text: string) => boolean): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (t: string) => {
      text += t;
      if (until(text)) resolve({ text, closed: false });
    });
    socket.on('close', () => resolve({ text, closed: true }));
  });
}

/**
 * One in-process server: each connection's head, read through a pacer; the reads it took and
 * the read after which it was first stopped (0: never). `inPieces`: as a worker's 'partial' hand-over.
 */
async function pacedServer(inPieces = false): Promise<{ server: net.Server; port: number; reads: number[]; firstStop: number[] }> {
  const reads: number[] = [];
  const firstStop: number[] = [];
  const server = net.createServer((accepted) => {
    const socket = withSharedReads(accepted);
    const pacer = readPacerOf(socket);
    if (inPieces) pacer.headCameInPieces();
    const slot = reads.push(0) - 1;
    firstStop.push(0);
    let head = '';
    readWith(socket, (bytes) => {
      reads[slot]!++;
      head += bytes.toString('latin1');
      const complete = head.includes(HEAD_END);
      if (complete) socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${head.length}\r\n\r\n${head}`);
      const keep = pacer.keepReading(bytes.length, !complete);
      if (!keep && firstStop[slot] === 0) firstStop[slot] = reads[slot]!;
      return keep;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port, reads, firstStop };
}

test('one pacer per socket: the protocol sniff and the connection count the same reads', () => {
  const socket = new net.Socket();
  assert.equal(readPacerOf(socket), readPacerOf(socket));
  assert.notEqual(readPacerOf(socket), readPacerOf(new net.Socket()));
});

test('a connection handed over with its head in pieces is paced after PACE_HANDED_AFTER_READS small reads, not PACE_AFTER_READS', async () => {
  const head = `GET /${'b'.repeat(20)} HTTP/1.1\r\nHost: x${HEAD_END}`;
  // 40 ms a byte: PACE_AFTER_MS has passed by the 4th read, so the count decides.
  const stops: number[] = [];
  for (const inPieces of [true, false]) {
    const { server, port, firstStop } = await pacedServer(inPieces);
    const client = await openSocket(port);
    const answer = collect(client, (t) => t.endsWith(HEAD_END) && t.includes(head));
    await trickle(client, head, 40);
    await answer;
    client.destroy();
    server.close();
    stops.push(firstStop[0]!);
  }
  const [handed, accepted] = stops as [number, number];
  assert.ok(handed >= PACE_HANDED_AFTER_READS && handed <= 4, `handed over in pieces: first stopped after read ${handed}`);
  assert.ok(accepted >= PACE_AFTER_READS, `accepted: first stopped after read ${accepted}`);
});

test('a trickling head is paced (far fewer reads than bytes) and answered whole', async () => {
  const { server, port, reads } = await pacedServer();
  const head = `GET /${'a'.repeat(60)} HTTP/1.1\r\nHost: x${HEAD_END}`;
  const stopsBefore = pacedStops();
  const client = await openSocket(port);
  const answer = collect(client, (t) => t.endsWith(HEAD_END) && t.includes(head));
  await trickle(client, head);
  const { text } = await answer;
  client.destroy();
  server.close();
  assert.ok(text.endsWith(head), text);
  assert.ok(pacedStops() > stopsBefore, 'the connection was paced');
  assert.ok(reads[0]! < head.length / 2, `${reads[0]} reads for ${head.length} one-byte writes`);
});

test('a head in three quick segments is not paced, on a connection accepted or handed over in pieces', async () => {
  for (const inPieces of [false, true]) {
    const { server, port, reads } = await pacedServer(inPieces);
    const stopsBefore = pacedStops();
    const client = await openSocket(port);
    const segments = ['GET / HT', 'TP/1.1\r\nHo', `st: x${HEAD_END}`];
    const answer = collect(client, (t) => t.endsWith(HEAD_END));
    // Each segment is written once the server has read the one before: three reads, as a client's would be.
    for (const [i, s] of segments.entries()) {
      client.write(s);
      while (reads[0] === undefined || reads[0] < i + 1) await new Promise((r) => setImmediate(r));
    }
    const { text } = await answer;
    client.destroy();
    server.close();
    assert.ok(text.endsWith(segments.join('')), text);
    assert.equal(reads[0], 3);
    assert.ok(3 < PACE_AFTER_READS);
    assert.equal(pacedStops(), stopsBefore, `never paced (handed over in pieces: ${inPieces})`);
  }
});

test('a paced request whose bytes flow again in full-sized reads is read at speed from then on', async () => {
  const BODY = 4 * 1024 * 1024;
  const TRICKLED = 'x'.repeat(24);
  let total = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const server = net.createServer((accepted) => {
    const socket = withSharedReads(accepted);
    const pacer = new ReadPacer(socket);
    readWith(socket, (bytes) => {
      total += bytes.length;
      const complete = total >= TRICKLED.length + BODY;
      if (complete) done();
      return pacer.keepReading(bytes.length, !complete);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = await openSocket((server.address() as net.AddressInfo).port);
  const stopsBefore = pacedStops();
  await trickle(client, TRICKLED);
  const stopsWhileTrickling = pacedStops() - stopsBefore;
  const stopsBeforeBody = pacedStops();
  client.write(Buffer.alloc(BODY, 0x61));
  await finished;
  const stopsDuringBody = pacedStops() - stopsBeforeBody;
  client.destroy();
  server.close();
  assert.ok(stopsWhileTrickling > 0, 'the trickle was paced');
  // Paced on, each 64 KiB read would wait for the next sweep: 64 stops for 4 MiB.
  assert.ok(stopsDuringBody <= 1, `${stopsDuringBody} stops while 4 MiB arrived`);
});

/**
 * The read syscalls of the master's main thread so far (the Berth test's bound on paced reads):
 * client sockets are read there; libuv's pool threads, which do the asynchronous file reads, are
 * left out.
 */
function masterReads(berth: RunningBerth): number {
  const pid = berth.proc.pid!;
  const line = readFileSync(`/proc/${pid}/task/${pid}/io`, 'utf8').split('\n').find((l) => l.startsWith('syscr:'))!;
  return Number(line.split(/\s+/)[1]);
}

/**
 * The master's read calls while `scenario` runs, under `limit` — retried once if not: the count
 * is the whole process's, and a loaded machine can add a burst of reads nothing here made. Code
 * that does not pace reads once per byte, every time, so it still fails.
 */
async function pacedReads(b: RunningBerth, limit: number, scenario: () => Promise<void>): Promise<void> {
  const counts: number[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const before = masterReads(b);
    await scenario();
    counts.push(masterReads(b) - before);
    if (counts.at(-1)! < limit) return;
  }
  assert.fail(`the master read ${counts.join(', then ')} times (limit ${limit}): not paced`);
}

let berth: RunningBerth;
let strict: RunningBerth;
before(async () => {
  const common = ['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--threads', '2', '--python', debianPython()];
  [berth, strict] = await Promise.all([startBerth(common), startBerth([...common, '--http-timeout', '1'])]);
  // The master loads its front door's modules at the first hand-over: those file reads are not the client's.
  await Promise.all([berth, strict].map(async (b) => {
    const client = await openSocket(b.port);
    const answer = collect(client, (t) => statuses(t).length === 1);
    await trickle(client, `GET /environ/warm HTTP/1.1\r\nHost: x${HEAD_END}`);
    await answer;
    client.destroy();
  }));
});
after(async () => {
  await Promise.all([berth?.stop(), strict?.stop()]);
});

test('through Berth: a trickled POST is paced, answered with its body, then the connection serves a kept-alive and a pipelined request', async () => {
  const body = 'paced body, every byte on its own';
  const request = `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}${HEAD_END}${body}`;
  let client: Socket | null = null;
  await pacedReads(berth, request.length / 2, async () => {
    client?.destroy(); // a retry starts on a new connection
    client = await openSocket(berth.port);
    const answer = collect(client, (t) => t.endsWith(body));
    await trickle(client, request);
    const { text } = await answer;
    assert.deepEqual(statuses(text), [200], text);
    assert.ok(text.endsWith(body), text);
  });
  const kept = client!;
  kept.removeAllListeners('data');
  const answer = collect(kept, (t) => statuses(t).length === 2 && t.endsWith('second'));
  kept.write(`GET /environ/first HTTP/1.1\r\nHost: x${HEAD_END}POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 6${HEAD_END}second`);
  const { text } = await answer;
  kept.destroy();
  assert.deepEqual(statuses(text), [200, 200], text);
  assert.match(text, /\/environ\/first/);
});

test('through Berth: a head trickled at 40 ms a byte is paced from its fourth read, the protocol sniff\'s reads counted', async () => {
  // 38 bytes over ~1.5 s. Paced from the 4th read, then every PACE_MS: the master read 13–15
  // times in all (the answer's included). Paced only after the sniff's five reads ("GET /") and
  // PACE_AFTER_READS of the connection's own, as before, it read 18–19 times.
  await pacedReads(berth, 17, async () => {
    const client = await openSocket(berth.port);
    const answer = collect(client, (t) => statuses(t).length === 1);
    await trickle(client, `GET /environ/forty HTTP/1.1\r\nHost: x${HEAD_END}`, 40);
    const { text } = await answer;
    client.destroy();
    assert.deepEqual(statuses(text), [200], text);
  });
});

test('through Berth: a trickled head whose last write carries a pipelined request gets both answers in order', async () => {
  const client = await openSocket(berth.port);
  const answer = collect(client, (t) => statuses(t).length === 2 && t.endsWith('tail'));
  await trickle(client, `GET /environ/paced HTTP/1.1\r\nHost: x${HEAD_END}`.slice(0, -1));
  client.write(`\nPOST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4${HEAD_END}tail`);
  const { text } = await answer;
  client.destroy();
  assert.deepEqual(statuses(text), [200, 200], text);
  assert.ok(text.indexOf('/environ/paced') < text.indexOf('tail'), text);
});

test('through Berth: a paced head that never ends gets the head timeout (408) as before', async () => {
  await pacedReads(strict, 50, async () => {
    const client = await openSocket(strict.port);
    const answer = collect(client, () => false);
    // Endless: 200 bytes take ~2 s, the deadline is 1 s from the first byte.
    void trickle(client, `GET /${'x'.repeat(200)}`);
    const { text, closed } = await answer;
    assert.deepEqual(statuses(text), [408], text);
    assert.equal(closed, true);
  });
  await strict.waitForLog(/the request head did not arrive within 1 s \(http-timeout\)/);
});

test('through Berth: a paced body that stalls gets the body timeout (408) as before', async () => {
  // A trickled head (so the worker hands the connection to the master), then 30 body bytes.
  await pacedReads(strict, 40, async () => {
    const client = await openSocket(strict.port);
    const answer = collect(client, () => false);
    await trickle(client, `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1000${HEAD_END}`);
    await trickle(client, 'b'.repeat(30));
    const { text, closed } = await answer;
    assert.deepEqual(statuses(text), [408], text);
    assert.equal(closed, true);
  });
  await strict.waitForLog(/the request body stalled for 1 s \(http-timeout\)/);
});
