import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { drainOrClose } from '../../src/proxy/drain-or-close.js';

test('drainOrClose leaves no drain or close listener on a socket that lives on', async () => {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.pause();
    accepted.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  while (accepted.length === 0) await new Promise((r) => setImmediate(r));
  const closeBefore = client.listenerCount('close');
  const drainBefore = client.listenerCount('drain');
  try {
    for (let wait = 0; wait < 3; wait++) {
      const full = !client.write(Buffer.alloc(8 * 1024 * 1024));
      assert.equal(full, true, 'an 8 MiB write to a paused peer fills the socket');
      const drained = drainOrClose(client);
      accepted[0]!.resume();
      await drained;
      accepted[0]!.pause();
      assert.equal(client.listenerCount('close'), closeBefore);
      assert.equal(client.listenerCount('drain'), drainBefore);
    }
  } finally {
    client.destroy();
    for (const s of accepted) s.destroy();
    server.close();
  }
});
