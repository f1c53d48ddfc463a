/**
 * uwsgi-direct: bytes a peer sends after a whole packet, while the worker runs the request, do
 * not cost the peer its answer. (Found by the soak fuzz, seed 20261206 input 1158: a packet, then
 * 24 stray bytes in a later segment. The worker closed the socket with them unread, so the kernel
 * answered the peer with a reset, which discards the response the peer had not read yet.)
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { APPS, debianPython, startBerth } from '../helpers/berth.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';
import { waitUntil } from './ops-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-trailing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function packet(uri: string): Buffer {
  const [path, query = ''] = uri.split('?') as [string, string?];
  return encodeUwsgiRequest([
    'REQUEST_METHOD', 'GET', 'REQUEST_URI', uri, 'PATH_INFO', path, 'QUERY_STRING', query,
    'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '10.1.2.3', 'SERVER_NAME', 'site', 'SERVER_PORT', '80', 'HTTP_HOST', 'site',
  ]);
}

test('stray bytes after a whole packet, sent while the app runs it: the answer still arrives whole', async (t) => {
  const berth = await startBerth(['--socket', '127.0.0.1:0', '--chdir', APPS, '--module', 'ops', '--python', debianPython(), '--processes', '1']);
  t.after(() => berth.stop());
  assert.match(berth.logs(), /the workers accept: uwsgi-direct/);
  for (let round = 0; round < 20; round++) {
    const flag = join(dir, `running-${round}`);
    const s = connect(berth.port, '127.0.0.1');
    let answer = '';
    let error: Error | null = null;
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('error', (e) => (error = e));
    s.write(packet(`/hold?f=${encodeURIComponent(flag)}`));
    await waitUntil(() => existsSync(flag), 'the app runs the request');
    s.end(Buffer.alloc(24, 'x')); // the stray bytes, then the peer's FIN
    await waitUntil(() => s.writableFinished, 'the stray bytes are sent');
    unlinkSync(flag);
    await closed;
    assert.equal(error, null, `the connection ended in ${String(error)}; the answer: ${JSON.stringify(answer)}`);
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /held in pid \d+$/);
  }
});
