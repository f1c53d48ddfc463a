// The channel socket forked workers connect to: only a HELLO with the right token, naming a
// worker the zygote is starting, becomes a worker's channel; everything else is closed and logged.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';

import { ChannelServer } from '../../src/master/channel-server.js';
import { createLauncher } from '../../src/master/launcher.js';
import { encodeFrame, encodeJsonFrame } from '../../src/protocol/worker/encode.js';
import { FromWorker } from '../../src/protocol/worker/frames.js';
import { INTERPRETER, Recorder, get, launchConfig, spawnerFor } from './launcher-harness.js';

/** Connects, writes `bytes`, resolves once the server closed the connection. */
async function refused(socketPath: string, bytes: Buffer): Promise<void> {
  const s: Socket = connect(socketPath);
  s.on('error', () => undefined);
  await once(s, 'connect');
  s.write(bytes);
  s.resume();
  await once(s, 'close');
}

test('ChannelServer: a good HELLO hands over the socket, its slot, pid and the bytes after it', async (t) => {
  const logs: string[] = [];
  const seen: Array<{ slot: number; pid: number; initial: Buffer }> = [];
  const server = await ChannelServer.open({
    uid: null, gid: null, log: (level, m) => void logs.push(`${level}: ${m}`),
    onHello: (slot, pid, socket, initial) => {
      seen.push({ slot, pid, initial: Buffer.from(initial) });
      socket.destroy();
      return null;
    },
  });
  t.after(() => server.close());
  const ready = encodeJsonFrame(0, FromWorker.READY, { pid: 4242 });
  const s = connect(server.path);
  await once(s, 'connect');
  s.write(Buffer.concat([encodeJsonFrame(3, FromWorker.HELLO, { pid: 4242, token: server.token }), ready]));
  await once(s, 'close');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.slot, 3);
  assert.equal(seen[0]!.pid, 4242);
  assert.deepEqual(seen[0]!.initial, ready);
  assert.deepEqual(logs, []);
});

test('ChannelServer: a wrong token, another first frame, garbage and a refusal by the owner are closed and logged', async (t) => {
  const logs: string[] = [];
  let called = 0;
  const server = await ChannelServer.open({
    uid: null, gid: null, log: (level, m) => void logs.push(`${level}: ${m}`),
    onHello: () => {
      called++;
      return 'no worker is being started for slot 9';
    },
  });
  t.after(() => server.close());
  await refused(server.path, encodeJsonFrame(1, FromWorker.HELLO, { pid: 77, token: 'not-the-token' }));
  await refused(server.path, encodeJsonFrame(0, FromWorker.READY, { pid: 77 }));
  await refused(server.path, encodeFrame(0, 0x7f));
  await refused(server.path, encodeJsonFrame(9, FromWorker.HELLO, { pid: 78, token: server.token }));
  assert.equal(called, 1, 'only the HELLO with the right token reaches the owner');
  assert.deepEqual(logs.map((l) => l.replace(/\(request id \d+\)/, '')), [
    'warn: worker channel: refused a connection: HELLO from pid 77 (slot 1) has a wrong token',
    'warn: worker channel: refused a connection: first frame is type 0x81, not HELLO',
    'warn: worker channel: refused a connection: unknown frame type 0x7f ',
    'warn: worker channel: refused HELLO from pid 78 (slot 9): no worker is being started for slot 9',
  ]);
});

test('preload launcher: a wrong token or an unknown pid is refused and the real workers go on serving', async (t) => {
  const rec = new Recorder();
  const launcher = createLauncher({ config: launchConfig({ threads: 1 }), interpreter: INTERPRETER, generation: 1, events: rec.events, log: rec.events.log, mode: 'preload' });
  const spawn = spawnerFor(t, launcher);
  await launcher.start();
  const w = spawn(1);
  await rec.readyOf(w);
  // As root we can read the token from the zygote's environment, as any peer with its uid could.
  const environ = readFileSync(`/proc/${launcher.zygotePid}/environ`, 'utf8').split('\0');
  const token = JSON.parse(environ.find((e) => e.startsWith('BERTH_WORKER_CONFIG='))!.slice('BERTH_WORKER_CONFIG='.length)).token as string;

  await refused(launcher.channelPath!, encodeJsonFrame(1, FromWorker.HELLO, { pid: w.pid, token: 'x'.repeat(token.length) }));
  await refused(launcher.channelPath!, encodeJsonFrame(5, FromWorker.HELLO, { pid: 999_999, token }));
  await refused(launcher.channelPath!, encodeJsonFrame(1, FromWorker.HELLO, { pid: w.pid, token }));
  assert.deepEqual(rec.logs, [
    `warn: worker channel: refused a connection: HELLO from pid ${w.pid} (slot 1) has a wrong token`,
    'warn: worker channel: refused HELLO from pid 999999 (slot 5): no worker is being started for slot 5 with pid 999999',
    `warn: worker channel: refused HELLO from pid ${w.pid} (slot 1): worker 1 (pid ${w.pid}) is already connected`,
  ]);
  const { ex, answer } = get('/hello');
  w.send(ex);
  assert.equal((await answer).status, 200);
});
