/**
 * The hand-over channel's last holder waits until the master has read every queued hand-over
 * (python http_handoff.wait_taken): a Python process stands in for the zygote on a real Node
 * IPC channel, sends a burst of descriptors while Node is busy, and exits.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, debianPython } from '../helpers/berth.js';

const SENDER = `
import array, json, os, socket, sys, time
sys.path.insert(0, sys.argv[1])
from berth_runtime.http_handoff import wait_taken
fd = int(os.environ['NODE_CHANNEL_FD'])
ch = socket.socket(fileno=os.dup(fd))
def send(i):
    s = socket.socket()
    line = json.dumps({'cmd': 'NODE_HANDLE', 'type': 'net.Native', 'msg': {'i': i}}) + '\\n'
    ch.sendmsg([line.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [s.fileno()]))])
    s.close()
send(0)
sys.stdin.read(1)  # the parent writes once it has the first, then keeps its event loop busy
for i in range(1, int(sys.argv[2])):
    send(i)
if sys.argv[3] == 'wait':
    open(sys.argv[4], 'w').close()
    print('taken' if wait_taken(fd, 10.0) else 'not taken', flush=True)
else:
    ch.close()
    os.close(fd)  # no process holds this end now: Node sees the hang-up
    open(sys.argv[4], 'w').close()
`;

function burst(count: number, mode: 'wait' | 'exit'): Promise<{ got: number; said: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-handoff-'));
  const sent = join(dir, 'sent');
  return new Promise<{ got: number; said: string }>((resolve, reject) => {
    const child = spawn(debianPython(), ['-c', SENDER, join(REPO, 'python'), String(count), mode, sent], { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
    let got = 0;
    let said = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (said += s));
    child.on('message', (_msg: unknown, handle: unknown) => {
      got++;
      (handle as { close?: () => void } | undefined)?.close?.(); // a bare handle, as http_handoff.py sends
      if (got === 1) {
        child.stdin!.end('x');
        // Busy until the rest of the burst is sent (and, without the wait, the channel closed):
        // they queue in the socket unread. Bounded, so a stuck sender fails the count instead.
        const until = Date.now() + 20_000;
        while (!existsSync(sent) && Date.now() < until);
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve({ got, said: said.trim() }));
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('a burst of hand-overs queued when the sender exits all reach Node when the sender waits until they are taken', async () => {
  const r = await burst(12, 'wait');
  assert.equal(r.said, 'taken');
  assert.equal(r.got, 12);
});

test('without that wait, libuv takes the hang-up for the end after one queued hand-over (why the zygote waits)', async () => {
  const r = await burst(12, 'exit');
  assert.ok(r.got < 12, `all ${r.got} arrived: libuv no longer loses queued handles at hang-up, and wait_taken may be unnecessary`);
});
