// WorkerChannel: frames queued before the socket arrives leave with the first write; bytes read
// before connect (after HELLO) are decoded first.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { FrameDecoder, type Frame } from '../../src/protocol/worker/decode.js';
import { encodeAbort, encodeJsonFrame } from '../../src/protocol/worker/encode.js';
import { FromWorker, ToWorker } from '../../src/protocol/worker/frames.js';
import { WorkerChannel } from '../../src/worker/channel.js';

test('a channel connected late sends what was queued and decodes the initial bytes first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-channel-'));
  const path = join(dir, 's');
  const server = createServer();
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((r) => server.listen(path, r));
  const accepted = once(server, 'connection');
  const peer = connect(path);
  const [master] = (await accepted) as [Socket];
  await once(peer, 'connect');

  const frames: Frame[] = [];
  const channel = new WorkerChannel(null, (f) => frames.push(f), (err) => assert.fail(err), () => undefined);
  assert.equal(channel.connected, false);
  channel.send(encodeAbort(7));
  await new Promise((r) => setImmediate(r));
  channel.send(encodeAbort(8));
  master.pause();
  peer.write(encodeJsonFrame(0, FromWorker.MODULES, ['/b.py']));
  await new Promise((r) => setTimeout(r, 50));
  channel.connect(master, encodeJsonFrame(0, FromWorker.MODULES, ['/a.py']));
  assert.equal(channel.connected, true);

  const got = new FrameDecoder('to-worker');
  const received: Frame[] = [];
  peer.on('data', (c: Buffer) => {
    got.push(c);
    for (let f = got.next(); f !== null; f = got.next()) received.push(f);
  });
  while (received.length < 2 || frames.length < 2) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(received.map((f) => [f.id, f.type]), [[7, ToWorker.ABORT], [8, ToWorker.ABORT]]);
  assert.deepEqual(frames.map((f) => f.payload.toString()), ['["/a.py"]', '["/b.py"]']);
  channel.close();
  peer.destroy();
});
