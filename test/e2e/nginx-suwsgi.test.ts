/**
 * Real nginx → `uwsgi_pass suwsgi://` (uwsgi over TLS, verified with uwsgi_ssl_verify and the
 * test's own CA) → Berth's `ssl-socket` → the echo app: what nginx's own suite checks against
 * uWSGI's ssl-socket (GET, HEAD without a body, many repeated fields, an address from a
 * variable or an upstream block, small and big POST bodies), the certificate checks on nginx's
 * side (wrong name, untrusted CA → 502), and plain uwsgi on the TLS port refused.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { debianPython, APPS, startBerth, type RunningBerth } from '../helpers/berth.js';
import { requireNginx, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

const ECHO = ['--chdir', APPS, '--module', 'echo', '--processes', '1', '--threads', '2', '--python', debianPython()];

let pki: TestPki;
let berth: RunningBerth;
let nginx: RunningNginx;

before(async () => {
  requireNginx();
  pki = makeTestPki();
  berth = await startBerth(['--ssl-socket', `127.0.0.1:0,${pki.serverCert},${pki.serverKey}`, ...ECHO]);
  assert.match(berth.logs(), /listening on suwsgi:\/\/127\.0\.0\.1:\d+/);
  const p = berth.port;
  const verified = (pass: string, name = 'localhost', ca = pki.caCert, extra = ''): string => `
      include uwsgi_params;
      uwsgi_pass ${pass};
      uwsgi_ssl_verify on;
      uwsgi_ssl_name ${name};
      uwsgi_ssl_trusted_certificate ${ca};
      ${extra}`;
  nginx = await startNginx(`
    upstream u { server 127.0.0.1:${p}; }
    server {
      server_name localhost;
      location / { ${verified(`suwsgi://127.0.0.1:${p}`)} }
      location /var/ { ${verified('suwsgi://$arg_b', 'localhost', pki.caCert, 'rewrite ^/var(/.*)$ $1 break;')} }
      location /wrong-name/ { ${verified(`suwsgi://127.0.0.1:${p}`, 'no.such.name')} }
      location /untrusted/ { ${verified(`suwsgi://127.0.0.1:${p}`, 'localhost', join(pki.dir, 'other-ca.crt'), 'uwsgi_ssl_session_reuse off;')} }
      location /plain/ { include uwsgi_params; uwsgi_pass 127.0.0.1:${p}; }
    }`);
});
after(async () => {
  await nginx?.stop();
  await berth?.stop();
  pki?.remove();
});

function join(dir: string, file: string): string {
  return `${dir}/${file}`;
}

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function send(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: nginx.port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A GET written by hand, so a field can repeat as a client sends it. */
function rawGet(path: string, fields: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(nginx.port, '127.0.0.1');
    let text = '';
    s.setEncoding('utf8').on('data', (c: string) => (text += c));
    s.on('error', reject);
    s.on('end', () => resolve(text));
    s.write(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n${fields}\r\n`);
  });
}

async function environ(path: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const r = await send('GET', path, undefined, headers);
  assert.equal(r.status, 200, `${path}: ${r.body.toString()}\nnginx:\n${nginx.errorLog()}\nberth:\n${berth.logs()}`);
  return JSON.parse(r.body.toString()) as Record<string, string>;
}

test('GET over suwsgi with the certificate verified: the environ is what uwsgi_params sends, scheme as the client used', async () => {
  const env = await environ('/environ?a=1');
  assert.equal(env['REQUEST_METHOD'], 'GET');
  assert.equal(env['QUERY_STRING'], 'a=1');
  assert.equal(env['SERVER_PORT'], String(nginx.port));
  // As uWSGI: an ssl-socket adds nothing; nginx's HTTPS ($https) says how the client came, here plain.
  assert.equal(env['wsgi.url_scheme'], 'http');
  assert.equal(env['REQUEST_SCHEME'], 'http');
});

test('HEAD carries no body; twenty repeated fields pass; the address from a variable and from an upstream block', async () => {
  const head = await send('HEAD', '/environ');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  const r = await rawGet('/environ', Array.from({ length: 20 }, () => 'X-Blah: ignored header\r\n').join(''));
  assert.match(r, /^HTTP\/1\.1 200 /);
  assert.equal((await environ(`/var/environ?b=127.0.0.1:${berth.port}`))['REQUEST_METHOD'], 'GET');
  assert.equal((await environ('/var/environ?b=u'))['REQUEST_METHOD'], 'GET');
});

test('POST bodies over suwsgi: small and 1 MiB', async () => {
  const small = await send('POST', '/body', Buffer.from('SEE-THIS'));
  assert.equal(small.status, 200);
  assert.equal(small.body.toString(), 'SEE-THIS');
  const big = Buffer.alloc(1024 * 1024, 'b');
  const sum = await send('POST', '/body-sha256', big);
  assert.equal(sum.status, 200, `${sum.body.toString()}\nnginx:\n${nginx.errorLog()}\nberth:\n${berth.logs()}`);
  assert.deepEqual(JSON.parse(sum.body.toString()), { size: big.length, sha256: createHash('sha256').update(big).digest('hex') });
});

test("nginx's own checks of Berth's certificate: a name it was not issued for, or a CA nginx does not trust, is a 502", async () => {
  assert.equal((await send('GET', '/wrong-name/environ')).status, 502);
  assert.equal((await send('GET', '/untrusted/environ')).status, 502);
  assert.match(nginx.errorLog(), /upstream SSL certificate (does not match|verify error)/);
  assert.equal((await send('GET', '/environ')).status, 200, 'the verified location still serves');
});

test('plain uwsgi_pass to the ssl-socket is refused, and Berth says why', async () => {
  assert.equal((await send('GET', '/plain/environ')).status, 502);
  await berth.waitForLog(/ssl-socket 127\.0\.0\.1:\d+: a client from 127\.0\.0\.1 spoke without TLS to this TLS port \(closed; logged once\) — use TLS \(nginx: uwsgi_pass suwsgi:\/\/\)/);
});
