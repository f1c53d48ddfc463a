/**
 * HTTPS_DN as uWSGI writes it (OpenSSL's X509_NAME_oneline): for real certificates openssl
 * makes, Berth's form from Node's subject must equal `openssl x509 -subject -nameopt compat`,
 * which prints the same one-line form — commas and quotes bare, '/' and '+' escaped, a
 * multi-valued RDN joined by '+', UTF-8 as \xHH.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { oneLineDn } from '../../src/server/tls-dn.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki?.remove());

const SUBJECTS: readonly [string, string][] = [
  ['plain', '/C=IT/O=Example/CN=client'],
  ['comma and quotes', '/O=Example\\, Inc. "Q" <x>; y/CN=a'],
  ['slash and plus in values', '/O=a/b\\+c/CN=x\\/y'],
  ['multi-valued RDN', '/O=Example/CN=alice+UID=a1'],
  ['UTF-8', '/O=Société/CN=José'],
  ['leading hash and spaces', '/OU=#tag/CN= padded '],
  ['backslash', '/CN=back\\\\slash'],
];

for (const [what, subject] of SUBJECTS) {
  test(`HTTPS_DN equals OpenSSL's one-line subject: ${what}`, () => {
    const { cert } = pki.clientWithSubject(what.replace(/\W+/g, '-'), subject);
    const node = new X509Certificate(readFileSync(cert)).subject;
    assert.equal(oneLineDn(node), pki.oneLineSubject(cert), `Node's subject was ${JSON.stringify(node)}`);
  });
}
