/** The option rows of TLS in the master (session s16T): TLS listeners and the ssl-* settings they share. */
import { accepted, planned, refused, rowsIn, type OptionSpec } from './option-spec.js';

const DAY_MS = 86_400_000;

const row = rowsIn('Listening');

const SHAPE = 'ADDRESS,CERT,KEY[,CIPHERS[,CLIENT_CA]]: a CLIENT_CA file asks clients for a certificate and refuses one that does not verify against it; !CLIENT_CA also refuses clients without one. An empty CIPHERS keeps Node\'s default list; TLS 1.2 and up. Served by the master (never the workers\' direct paths); SIGHUP re-reads the files. See docs/security.md.';

export const TLS_OPTIONS: readonly OptionSpec[] = [
  row({
    name: 'https', type: 'tls-address', repeatable: true, field: 'http',
    help: `HTTPS listener (HTTP/1.1 over TLS, ALPN http/1.1), as uWSGI's https router: ${SHAPE} The app sees wsgi.url_scheme = https and HTTPS = on; clients get http-timeout. A plain-HTTP request on it is answered 400.`,
  }),
  row({
    name: 'https-socket', type: 'tls-address', repeatable: true, field: 'http',
    help: `Like https, except that its clients get socket-timeout instead of http-timeout (as http-socket is to http): ${SHAPE}`,
  }),
  row({
    name: 'https2', type: 'tls-keyval', repeatable: true, field: 'http',
    help: "uWSGI's https with key=value items: addr=ADDRESS,cert=CERT,key=KEY[,ciphers=LIST][,clientca=[!]CA] (crt and client_ca also read; spdy=… is ignored, clients get HTTP/1.1). Otherwise the same listener as https.",
  }),
  row({
    name: 'ssl-socket', aliases: ['suwsgi-socket'], type: 'tls-address', repeatable: true, field: 'uwsgi',
    help: `uwsgi-protocol listener over TLS, for nginx's uwsgi_pass suwsgi://: ${SHAPE} As in uWSGI, the vars nginx sends decide HTTPS and the scheme.`,
  }),
  row({
    name: 'ssl-verbose', type: 'bool', default: 'false', field: 'sslVerbose',
    help: 'Log every failed TLS handshake with the peer and the reason (otherwise only the first of each listener is logged).',
  }),
  row({
    name: 'ssl-enable-tlsv1', type: 'bool', default: 'false', field: 'sslEnableTlsv1',
    help: 'Also accept TLS 1.0 and 1.1 (insecure; OpenSSL\'s security level may still refuse them). Without it, TLS 1.2 and up.',
  }),
  row({
    name: 'ssl-session-timeout', aliases: ['ssl-sessions-timeout'], type: 'seconds', default: '300', range: [1000, DAY_MS], field: 'sslSessionTimeoutMs',
    help: 'How long a TLS session can be resumed (session ids and tickets), as uWSGI\'s default of 300 seconds.',
  }),
  row({
    name: 'ssl-option', type: 'int', repeatable: true, range: [0, Number.MAX_SAFE_INTEGER], field: 'sslOptions',
    help: 'A raw OpenSSL SSL_OP_* number for every TLS listener (Node\'s secureOptions), or-ed with the others: 16777216 (SSL_OP_NO_RENEGOTIATION), for one.',
  }),
  row({
    name: 'https-export-cert', type: 'bool', default: 'false', field: 'httpsExportCert',
    help: 'Pass a verified client certificate to the app as PEM in HTTPS_CC (HTTPS_DN, its subject, is always passed when a client sent one).',
  }),
  accepted('ssl-sessions-use-cache', 'string', 'Listening',
    'each TLS listener keeps its own session cache in the master (ssl-session-timeout applies); there is no uWSGI cache to store them in',
    { aliases: ['ssl-session-use-cache'], optionalValue: true }),
  accepted('https-session-context', 'string', 'Listening',
    'each TLS listener already has a session context of its own; uWSGI needs the name to share sessions between instances through its cache, which Berth does not have'),
  accepted('ssl-tmp-dir', 'path', 'Listening',
    'uWSGI stores certificates given inline (PEM text from subscriptions and legions) there; Berth reads certificates only from the files a listener names, so there is nothing to store'),
  planned('ssl-verify-depth', 'int', 'Listening',
    "Node's TLS cannot limit the client certificate chain's length: Berth accepts a chain of any length up to a CA in CLIENT_CA (uWSGI's default of 1 allows one intermediate); remove it, or list only the CAs you trust in CLIENT_CA",
    { optionalValue: true }),
  planned('sni', 'string', 'Listening',
    'one certificate per TLS listener for now: give each name its own https listener (a certificate with several names, or a wildcard, covers them on one), or terminate TLS in nginx',
    { aliases: ['sni-dir', 'sni-dir-ciphers', 'sni-regexp'], repeatable: true }),
  planned('http-to-https', 'address', 'Listening',
    "not implemented yet: let nginx answer it (return 301 https://$host$request_uri;), or have the app redirect on HTTPS != 'on'"),
  refused('ssl-enable3', 'bool', 'Listening',
    'SSLv3 is broken and Node\'s OpenSSL does not speak it; remove it (ssl-enable-tlsv1 allows TLS 1.0 for old clients)',
    { aliases: ['ssl-enable-sslv3'] }),
];
