// The held response head (src/proxy/proxy-attempt.ts): held for a body in the same read, sent at
// the end of that read when none came — never left waiting for a body the backend holds back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { statusLine } from '../../src/proxy/proxy-attempt.js';
import { startBerth, type RunningBerth } from '../helpers/berth.js';

/** Reads from `socket` until `text` has arrived, failing after `ms` with what did. */
function readUntil(socket: net.Socket, seen: { text: string }, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      if (!seen.text.includes(text)) return false;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve();
      return true;
    };
    const onData = (c: Buffer): void => {
      seen.text += c.toString('latin1');
      check();
    };
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`no ${JSON.stringify(text)} within ${ms} ms; got ${JSON.stringify(seen.text)}`));
    }, ms);
    if (!check()) socket.on('data', onData);
  });
}

describe('a proxied response head', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-held-head-'));
  let backend: net.Server;
  let front: RunningBerth;
  /** The backend's side of the request in progress, to send the body when the test says. */
  let backendSocket: Promise<net.Socket>;
  const sockets = new Set<net.Socket>();

  before(async () => {
    let gotSocket!: (s: net.Socket) => void;
    backendSocket = new Promise((resolve) => (gotSocket = resolve));
    backend = net.createServer((socket) => {
      sockets.add(socket);
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        if (!buf.includes('\r\n\r\n')) return;
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n');
        gotSocket(socket);
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const port = (backend.address() as net.AddressInfo).port;
    writeFileSync(join(dir, 'front.ini'), ['[upstream:slow]', `server = http://127.0.0.1:${port}`, '', '[uwsgi]', 'http = 127.0.0.1:0', 'proxy-pass = /=slow', ''].join('\n'));
    front = await startBerth(['--ini', join(dir, 'front.ini')], { waitReady: false });
  });

  after(async () => {
    await front?.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => backend.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches the client while the backend still holds back the body, and the body follows', async () => {
    const client = net.connect(front.port, '127.0.0.1');
    try {
      await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
      client.write('GET /later HTTP/1.1\r\nHost: x.test\r\n\r\n');
      const seen = { text: '' };
      await readUntil(client, seen, '\r\n\r\n', 5000);
      assert.match(seen.text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(seen.text, /\r\ncontent-length: 5\r\n/i);
      const upstream = await backendSocket;
      upstream.write('hello');
      await readUntil(client, seen, 'hello', 5000);
      assert.ok(seen.text.endsWith('\r\n\r\nhello'), JSON.stringify(seen.text));
    } finally {
      client.destroy();
    }
  });
});

describe('a proxied status line', () => {
  it('is made from this response\'s code and reason, whatever the last one was', () => {
    assert.equal(statusLine(200, 'OK'), '200 OK');
    assert.equal(statusLine(200, 'OK'), '200 OK');
    assert.equal(statusLine(200, 'Fine'), '200 Fine');
    assert.equal(statusLine(201, 'Fine'), '201 Fine');
    assert.equal(statusLine(201, ''), '201');
    assert.equal(statusLine(200, 'OK'), '200 OK');
  });
});
