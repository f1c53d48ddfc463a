import test from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress } from '../../src/config/address.js';

const tcp = (text: string) => {
  const r = parseAddress(text, '/srv');
  assert.ok(r.ok, text);
  return r.value;
};

test('uWSGI address forms', () => {
  assert.deepEqual(tcp(':8000'), { kind: 'tcp', host: '', port: 8000, text: ':8000' });
  assert.deepEqual(tcp('0.0.0.0:8000'), { kind: 'tcp', host: '0.0.0.0', port: 8000, text: '0.0.0.0:8000' });
  assert.deepEqual(tcp('127.0.0.1:8000'), { kind: 'tcp', host: '127.0.0.1', port: 8000, text: '127.0.0.1:8000' });
  assert.deepEqual(tcp('localhost:8000'), { kind: 'tcp', host: 'localhost', port: 8000, text: 'localhost:8000' });
  assert.deepEqual(tcp('[::1]:8000'), { kind: 'tcp', host: '::1', port: 8000, text: '[::1]:8000' });
  assert.deepEqual(tcp('*:80'), { kind: 'tcp', host: '', port: 80, text: ':80' });
  assert.deepEqual(tcp('127.0.0.1:0'), { kind: 'tcp', host: '127.0.0.1', port: 0, text: '127.0.0.1:0' });
});

test('unix socket paths are resolved against the current directory', () => {
  assert.deepEqual(parseAddress('/run/app.sock', '/srv'), { ok: true, value: { kind: 'unix', path: '/run/app.sock', text: '/run/app.sock' } });
  assert.deepEqual(parseAddress('app.sock', '/srv'), { ok: true, value: { kind: 'unix', path: '/srv/app.sock', text: '/srv/app.sock' } });
  assert.deepEqual(parseAddress('run/http', '/srv'), { ok: true, value: { kind: 'unix', path: '/srv/run/http', text: '/srv/run/http' } });
});

test('bad addresses say how to write a good one', () => {
  const r = parseAddress('8000', '/srv');
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.fix, /':8000'/);
  for (const bad of ['', ':99999', ':http', '::1:80', 'bad host:80', '[::1]80']) assert.equal(parseAddress(bad, '/srv').ok, false, bad);
});
