/**
 * TLS listener options (https, https-socket, ssl-socket / suwsgi-socket) and the ssl-* settings:
 * their values as uWSGI writes them, and every refusal naming the option, the file and line, and a fix.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBerth } from '../helpers/berth.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { fromSiteIni, ok, onlyProblem } from './results.js';
import { makeTree } from './tmp-dir.js';

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki?.remove());

const fromIni = fromSiteIni;
const only = onlyProblem;

test('https, https-socket and ssl-socket read ADDR,CERT,KEY[,CIPHERS[,CLIENT_CA]] with paths against the directory', (t) => {
  const tree = makeTree({ 'certs/': '' });
  t.after(tree.remove);
  for (const f of ['server.crt', 'server.key', 'ca.crt']) copyFileSync(join(pki.dir, f), join(tree.dir, 'certs', f));
  const c = ok(fromIni(tree.dir, [
    'https = 127.0.0.1:0,certs/server.crt,certs/server.key',
    'https-socket = 127.0.0.1:0,certs/server.crt,certs/server.key,HIGH:!aNULL,certs/ca.crt',
    'suwsgi-socket = 127.0.0.1:0,certs/server.crt,certs/server.key,,!certs/ca.crt',
  ]));
  const [https, httpsSocket] = c.http;
  const [ssl] = c.uwsgi;
  assert.equal(https?.via, 'http');
  assert.deepEqual(https?.tls, { cert: join(tree.dir, 'certs/server.crt'), key: join(tree.dir, 'certs/server.key'), ciphers: null, clientCa: null, clientCertRequired: false });
  assert.equal(httpsSocket?.via, 'http-socket', 'https-socket clients get socket-timeout, as http-socket');
  assert.equal(httpsSocket?.tls?.ciphers, 'HIGH:!aNULL');
  assert.equal(httpsSocket?.tls?.clientCertRequired, false, 'a CA file alone: certificates that are sent must verify');
  assert.equal(ssl?.via, 'socket');
  assert.equal(ssl?.tls?.clientCa, join(tree.dir, 'certs/ca.crt'));
  assert.equal(ssl?.tls?.clientCertRequired, true, "uWSGI's '!': a client without a certificate is refused");
  assert.deepEqual([c.sslVerbose, c.sslEnableTlsv1, c.sslSessionTimeoutMs, c.sslOptions, c.httpsExportCert], [false, false, 300_000, [], false]);
});

test('the ssl-* options uWSGI users write: supported, accepted with no effect, or refused with the alternative', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const https = `https = 127.0.0.1:0,${pki.serverCert},${pki.serverKey}`;
  const c = ok(fromIni(tree.dir, [https, 'ssl-verbose = true', 'ssl-enable-tlsv1 = true', 'ssl-sessions-timeout = 60', 'ssl-option = 16777216', 'https-export-cert = true', 'ssl-sessions-use-cache = true']));
  assert.deepEqual([c.sslVerbose, c.sslEnableTlsv1, c.sslSessionTimeoutMs, c.sslOptions, c.httpsExportCert], [true, true, 60_000, [16777216], true]);
  const sslv3 = only(fromIni(tree.dir, [https, 'ssl-enable3 = true']));
  assert.equal(sslv3.code, 'not-supported');
  assert.match(sslv3.fix ?? '', /SSLv3 is broken/);
  const sni = only(fromIni(tree.dir, [https, 'sni = example.com a.crt,a.key']));
  assert.equal(sni.code, 'not-supported-yet');
  assert.match(sni.fix ?? '', /terminate TLS in nginx/);
});

test('a missing certificate, a key of another certificate, a malformed value: refused with option, file:line and fix', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const missing = only(fromIni(tree.dir, [`https = 127.0.0.1:0,${tree.dir}/nope.crt,${pki.serverKey}`]));
  assert.deepEqual([missing.code, missing.option, missing.file, missing.line], ['tls-material', 'https', join(tree.dir, 'site.ini'), 3]);
  assert.match(missing.message, /certificate file .*nope\.crt does not exist/);
  assert.match(missing.fix ?? '', /PEM file Berth can read/);

  const mismatch = only(fromIni(tree.dir, [`ssl-socket = 127.0.0.1:0,${pki.serverCert},${pki.clientKey}`]));
  assert.deepEqual([mismatch.code, mismatch.option, mismatch.line], ['tls-material', 'ssl-socket', 3]);
  assert.match(mismatch.message, /does not belong to the certificate/);

  const notPem = only(fromIni(tree.dir, [`https = 127.0.0.1:0,${join(tree.dir, 'site.ini')},${pki.serverKey}`]));
  assert.equal(notPem.code, 'tls-material');
  assert.match(notPem.message, /not PEM/);

  const shape = only(fromIni(tree.dir, ['https = :8443,/etc/ssl/site.crt']));
  assert.deepEqual([shape.code, shape.option, shape.line], ['bad-value', 'https', 3]);
  assert.match(shape.fix ?? '', /ADDRESS,CERT,KEY/);

  const bang = only(fromIni(tree.dir, [`https = 127.0.0.1:0,${pki.serverCert},${pki.serverKey},,!`]));
  assert.equal(bang.code, 'bad-value');
  assert.match(bang.message, /followed by the client CA file/);

  const ca = only(fromIni(tree.dir, [`https = 127.0.0.1:0,${pki.serverCert},${pki.serverKey},,${tree.dir}/no-ca.pem`]));
  assert.match(ca.message, /client CA file .*no-ca\.pem does not exist/);
});

test('berth check refuses a wrong certificate path, naming the option, the file and line, and the fix', async (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  writeFileSync(join(tree.dir, 'site.ini'), ['[uwsgi]', 'module = app', `https = 127.0.0.1:0,${tree.dir}/site.crt,${pki.serverKey}`, ''].join('\n'));
  const r = await runBerth(['check', '--ini', join(tree.dir, 'site.ini')], { cwd: tree.dir });
  assert.notEqual(r.code, 0);
  const out = r.stdout + r.stderr;
  assert.match(out, /https/);
  assert.match(out, new RegExp(`${join(tree.dir, 'site.ini').replace(/[.]/g, '\\.')}.*3|line 3`));
  assert.match(out, /site\.crt does not exist/);
  assert.match(out, /PEM file Berth can read/);
});
