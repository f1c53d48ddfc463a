// ForkedProcess as the launcher drives it (no real process: the pid is our own child's, or none).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Socket } from 'node:net';
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
  p.connect(new Socket(), Buffer.from('rest'));
  const s = sink();
  p.attach(s);
  assert.deepEqual(s.calls, ['channel rest']);
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
  p.connect(new Socket(), null);
  const second = new Socket();
  p.connect(second, null);
  assert.equal(second.destroyed, true);
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
