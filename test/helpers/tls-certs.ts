/**
 * A throw-away PKI for the TLS tests, made with the openssl command in a temp dir: a CA, a
 * server certificate for localhost / 127.0.0.1 signed by it, a client certificate signed by it,
 * and a client certificate from another CA (which must not verify). Fails loudly naming openssl
 * (scripts/install-test-deps.sh) when it is missing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A client certificate another CA signed. */
  readonly strangerCert: string;
  readonly strangerKey: string;
  /** A client certificate the CA signs for `subject` (openssl -subj syntax, UTF-8, multi-valued RDNs allowed). */
  clientWithSubject(name: string, subject: string): { readonly cert: string; readonly key: string };
  /** The certificate's subject as OpenSSL's X509_NAME_oneline writes it (openssl -nameopt compat). */
  oneLineSubject(cert: string): string;
  /** Signs a fresh server certificate for the same key into `cert` (a renewal). */
  renewServer(cert: string, cn: string): void;
  remove(): void;
}

function openssl(dir: string, args: readonly string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('openssl is not installed: run scripts/install-test-deps.sh (package openssl)');
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

function opensslOut(dir: string, args: readonly string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function selfSignedCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`]);
}

function signed(dir: string, ca: string, name: string, cn: string, ext: string, key = `${name}.key`): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/O=Berth tests/CN=${cn}`, '-keyout', key, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

const SERVER_EXT = 'subjectAltName = DNS:localhost, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n';
const CLIENT_EXT = 'extendedKeyUsage = clientAuth\n';

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pki-'));
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'other-ca');
  signed(dir, 'ca', 'server', 'localhost', SERVER_EXT);
  signed(dir, 'ca', 'client', 'berth-client', CLIENT_EXT);
  signed(dir, 'other-ca', 'stranger', 'stranger', CLIENT_EXT);
  const at = (f: string): string => join(dir, f);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    strangerCert: at('stranger.crt'),
    strangerKey: at('stranger.key'),
    clientWithSubject: (name: string, subject: string) => {
      openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-utf8', '-multivalue-rdn', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
      openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'client.ext', '-out', `${name}.crt`]);
      return { cert: at(`${name}.crt`), key: at(`${name}.key`) };
    },
    oneLineSubject: (cert: string) => opensslOut(dir, ['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'compat']).replace(/\n$/, '').replace(/^subject=/, ''),
    renewServer: (cert: string, cn: string) => {
      openssl(dir, ['req', '-new', '-key', 'server.key', '-subj', `/O=Berth tests/CN=${cn}`, '-out', 'renew.csr']);
      writeFileSync(join(dir, 'renew.ext'), SERVER_EXT);
      openssl(dir, ['x509', '-req', '-in', 'renew.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'renew.ext', '-out', cert]);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
