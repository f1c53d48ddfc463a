// ForkedProcess as the launcher drives it (no real process: the pid is our own child's, or none).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, Socket, type AddressInfo } from 'node:net';
import { test } from 'node:test';

import { ForkedProcess, type WorkerProcessSink } from '../../src/worker/process.js';

function sink(): WorkerProcessSink & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    channel: (_s, initial) => void calls.push(`channel ${initial?.toString() ?? ''}`),
    output: (text) => void calls.push(`output ${text}`),
    exit: (code, signal) => void calls.push(`exit ${code} ${signal}`),
  };
}

const forked = () => new ForkedProcess({ slot: 2, inheritedDjango: { static_url: '/s/' }, recentOutput: () => 'zygote tail' });

test('a channel and an exit that came before attach are delivered on attach; exit is reported once', () => {
  const p = forked();
  p.forked(123456);
  const channel = new Socket();
  p.connect(channel, Buffer.from('rest'));
  const s = sink();
  p.attach(s);
  assert.deepEqual(s.calls, ['channel rest']);
  channel.destroy(); // the worker's channel closed before its EXITED came
  p.exited(0, null);
  p.exited(1, null);
  assert.deepEqual(s.calls, ['channel rest', 'exit 0 null']);
  assert.equal(p.recentOutput(), 'zygote tail');
  assert.deepEqual(p.inheritedDjango, { static_url: '/s/' });
  assert.throws(() => p.attach(sink()), /one sink/);
});

test('a second connection, or one after the exit, is destroyed', () => {
  const p = forked();
  const s = sink();
  p.attach(s);
  p.forked(123456);
  const channel = new Socket();
  p.connect(channel, null);
  const second = new Socket();
  p.connect(second, null);
  assert.equal(second.destroyed, true);
  channel.destroy();
  p.exited(null, 'SIGKILL');
  const late = new Socket();
  p.connect(late, null);
  assert.equal(late.destroyed, true);
  assert.deepEqual(s.calls, ['channel ', 'exit null SIGKILL']);
});

test('a kill before FORKED waits for the pid, then reaches the process', async () => {
  const child = spawn('sleep', ['30']);
  try {
    const p = forked();
    p.attach(sink());
    p.kill('SIGKILL');
    assert.equal(p.pendingSignal, 'SIGKILL');
    p.forked(child.pid!);
    const [, signal] = await once(child, 'exit');
    assert.equal(signal, 'SIGKILL');
    assert.equal(p.pendingSignal, null);
  } finally {
    child.kill('SIGKILL');
  }
});

test('an EXITED that overtakes the worker\'s last frames is reported after them, once the channel has closed', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const accepted = once(server, 'connection');
    const worker = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const [channel] = (await accepted) as [Socket];
    await once(worker, 'connect');
    const p = forked();
    const calls: string[] = [];
    p.attach({
      channel: (socket) => socket.on('data', (d: Buffer) => void calls.push(`frame ${d.toString()}`)),
      output: () => undefined,
      exit: (code, signal) => void calls.push(`exit ${code} ${signal}`),
    });
    p.forked(123456);
    p.connect(channel, null);
    worker.end('BOOT_FAIL'); // the worker's last frame, then its death closes the channel
    p.exited(4, null); // the zygote's EXITED, handled before the channel's bytes are read
    assert.deepEqual(calls, []);
    await once(channel, 'close');
    assert.deepEqual(calls, ['frame BOOT_FAIL', 'exit 4 null']);
  } finally {
    server.close();
  }
});

test('an EXITED whose channel never closes is reported after a bounded wait', async () => {
  const p = forked();
  const s = sink();
  p.attach(s);
  p.forked(123456);
  const channel = new Socket(); // never connected, never closed: a channel stuck open
  p.connect(channel, null);
  p.exited(null, 'SIGKILL');
  assert.deepEqual(s.calls, ['channel ']);
  const deadline = Date.now() + 5_000;
  while (s.calls.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(s.calls, ['channel ', 'exit null SIGKILL']);
  channel.destroy();
});
