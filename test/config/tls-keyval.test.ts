/**
 * uWSGI's https2 (key=value items) read into the same listener as https, with uWSGI's spellings
 * and escapes; '=N' shared-socket references and the TLS options Berth has no use for, each
 * answered as a uWSGI user needs: refused naming option, file:line and fix, or accepted.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { fromSiteIni, ok, onlyProblem } from './results.js';
import { makeTree } from './tmp-dir.js';

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki?.remove());


test('https2 reads addr, cert (or crt), key, ciphers and clientca (or client_ca) as https does; spdy is ignored', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const c = ok(fromSiteIni(tree.dir, [
    `https2 = addr=127.0.0.1:0,cert=${pki.serverCert},key=${pki.serverKey}`,
    `https2 = key=${pki.serverKey},crt=${pki.serverCert},addr=127.0.0.1:0,ciphers=HIGH:!aNULL,client_ca=!${pki.caCert},spdy=1`,
    `https2 = addr=127.0.0.1:0,cert=${pki.serverCert},key=${pki.serverKey},clientca=${pki.caCert}`,
  ]));
  const [plain, required, optional] = c.http;
  assert.deepEqual(plain?.tls, { cert: pki.serverCert, key: pki.serverKey, ciphers: null, clientCa: null, clientCertRequired: false });
  assert.equal(plain?.via, 'http', 'https2 clients get http-timeout, as https');
  assert.deepEqual(required?.tls, { cert: pki.serverCert, key: pki.serverKey, ciphers: 'HIGH:!aNULL', clientCa: pki.caCert, clientCertRequired: true });
  assert.equal(optional?.tls?.clientCertRequired, false);
});

test('https2: a backslash escapes a comma, as in uWSGI', (t) => {
  const tree = makeTree({ 'a,b.crt': '' });
  t.after(tree.remove);
  // The file is empty: the problem must name the escaped path whole, proving the comma was kept.
  const p = onlyProblem(fromSiteIni(tree.dir, [`https2 = addr=127.0.0.1:0,cert=a\\,b.crt,key=${pki.serverKey}`]));
  assert.match(p.message, /a,b\.crt/);
});

test('https2 without addr, cert or key, or with an unknown key: refused naming the line and the shape', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const missing = onlyProblem(fromSiteIni(tree.dir, [`https2 = addr=:8443,cert=${pki.serverCert}`]));
  assert.equal(missing.option, 'https2');
  assert.match(missing.message, /has no key/);
  assert.equal(missing.line, 3);
  assert.match(missing.file ?? '', /site\.ini$/);
  assert.match(missing.fix ?? '', /addr=ADDRESS,cert=CERT,key=KEY/);
  const typo = onlyProblem(fromSiteIni(tree.dir, [`https2 = addr=:8443,cert=${pki.serverCert},key=${pki.serverKey},cipher=HIGH`]));
  assert.match(typo.message, /'cipher=HIGH'.*is not one of addr, cert/);
});

test("'=0' (uWSGI's shared-socket reference) is refused with the fix: write the address", (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  for (const line of [`https = =0,${pki.serverCert},${pki.serverKey}`, 'http = =1']) {
    const p = onlyProblem(fromSiteIni(tree.dir, ['shared-socket = 127.0.0.1:0', line]));
    assert.match(p.message, /refers to uWSGI's shared-socket number/);
    assert.match(p.fix ?? '', /write that shared-socket's address here/);
  }
});

test('https-session-context and ssl-tmp-dir are accepted; ssl-verify-depth and http-to-https are refused with what to do', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const https = `https = 127.0.0.1:0,${pki.serverCert},${pki.serverKey}`;
  ok(fromSiteIni(tree.dir, [https, 'https-session-context = shop', 'ssl-tmp-dir = /tmp']));
  const depth = onlyProblem(fromSiteIni(tree.dir, [https, 'ssl-verify-depth = 2']));
  assert.equal(depth.code, 'not-supported-yet');
  assert.match(depth.fix ?? '', /chain/);
  const redirect = onlyProblem(fromSiteIni(tree.dir, [https, 'http-to-https = :8080']));
  assert.match(redirect.fix ?? '', /return 301 https:\/\/\$host\$request_uri/);
});
