/** A real Flask 2.2 app (Debian python3-flask) and a wsgiref.validate-wrapped app served by Berth. */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';

let flask: RunningBerth;
let validated: RunningBerth;

before(async () => {
  const python = debianPython();
  [flask, validated] = await Promise.all([
    startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--wsgi-file', 'flaskapp.py', '--callable', 'app', '--processes', '1', '--threads', '4', '--python', python]),
    startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'validated', '--processes', '1', '--threads', '2', '--python', python]),
  ]);
});
after(async () => {
  await Promise.all([flask?.stop(), validated?.stop()]);
});

test('Flask: text, JSON, template', async () => {
  assert.equal(await (await fetch(flask.url('/'))).text(), 'Hello from Flask!');
  const json = (await (await fetch(flask.url('/json'))).json()) as { numbers: number[]; method: string };
  assert.deepEqual(json.numbers, [1, 2, 3]);
  const html = await (await fetch(flask.url('/template?n=5'))).text();
  assert.equal((html.match(/<li /g) ?? []).length, 5);
});

test('Flask: urlencoded form and multipart upload', async () => {
  const form = await fetch(flask.url('/form'), { method: 'POST', body: new URLSearchParams({ a: '1', b: 'två' }) });
  assert.deepEqual(await form.json(), { a: '1', b: 'två' });
  const data = randomBytes(3 * 1024 * 1024 + 7);
  const fd = new FormData();
  fd.set('file', new Blob([data]), 'blob.bin');
  const up = (await (await fetch(flask.url('/upload'), { method: 'POST', body: fd })).json()) as { size: number; sha256: string; name: string };
  assert.equal(up.name, 'blob.bin');
  assert.equal(up.size, data.length);
  assert.equal(up.sha256, createHash('sha256').update(data).digest('hex'));
});

test('Flask: an exception is Flask’s 500 page; the app keeps serving', async () => {
  const res = await fetch(flask.url('/error'));
  assert.equal(res.status, 500);
  await res.arrayBuffer();
  assert.equal((await fetch(flask.url('/'))).status, 200);
});

test('wsgiref.validate: Berth’s environ and calls satisfy the PEP 3333 validator', async () => {
  for (const path of ['/environ', '/stream?n=3&size=10', '/pid', '/write']) {
    const res = await fetch(validated.url(path));
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    await res.arrayBuffer();
  }
  const post = await fetch(validated.url('/body-sha256'), { method: 'POST', body: 'x'.repeat(100_000) });
  assert.equal(((await post.json()) as { size: number }).size, 100_000);
  await new Promise((r) => setTimeout(r, 100));
  assert.doesNotMatch(validated.logs(), /AssertionError|Traceback/);
});
