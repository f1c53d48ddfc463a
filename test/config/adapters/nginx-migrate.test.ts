/** berth migrate nginx: the parser (blocks, comments, quotes, errors) and the four seed nginx files converted to inis Berth loads and checks. */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNginxConf } from '../../../src/config/adapters/nginx-conf.js';
import { migrateNginx } from '../../../src/config/adapters/nginx-migrate.js';
import { BerthError } from '../../../src/errors/berth-error.js';
import { BERTH_BIN } from '../../helpers/berth.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-migrate-nginx-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const seeds = join(process.cwd(), 'test', 'fixtures', 'seeds');

test('the parser reads nested blocks, comments and quotes', () => {
  const conf = parseNginxConf([
    'http { # a comment { ; }', '  server {', '    location /a{ alias "/srv/my dir"; }', "    log_format main '$a \\' b' \"c\";", '  }', '}',
  ].join('\n'), 't.conf');
  assert.equal(conf.fullWidthSpaces, false);
  const http = conf.directives[0];
  assert.equal(http?.name, 'http');
  const server = http?.block?.[0];
  assert.equal(server?.line, 2);
  const location = server?.block?.[0];
  assert.deepEqual(location?.args, ['/a']);
  assert.deepEqual(location?.block?.[0]?.args, ['/srv/my dir']);
  assert.deepEqual(server?.block?.[1]?.args, ['main', "$a ' b", 'c']);
  assert.equal(parseNginxConf('\u3000listen 80;', 'w.conf').fullWidthSpaces, true);
});

test('a syntax error is a BerthError naming the file and line', () => {
  for (const [text, line] of [['server {\n  listen 80\n}', 2], ['server {\n\n  listen 80;', 1], ['a;\n}', 2], ["a 'b;\n", 1]] as const) {
    assert.throws(() => parseNginxConf(text, 'bad.conf'), (err: unknown) => err instanceof BerthError && err.message.includes(`bad.conf line ${line}:`) && err.message.includes('Fix:'), text);
  }
});

function convertAndCheck(file: string): string {
  const text = execFileSync(process.execPath, [BERTH_BIN, 'migrate', 'nginx', file], { encoding: 'utf8' });
  const ini = join(dir, `${file.replace(/\W+/g, '_')}.ini`);
  writeFileSync(ini, text);
  const check = spawnSync(process.execPath, [BERTH_BIN, 'check', '--ini', ini], { encoding: 'utf8' });
  assert.equal(check.status, 0, `${text}\n${check.stderr}${check.stdout}`);
  assert.match(check.stdout, /app: none \(a pure front: Berth starts no Python\)/);
  return text;
}

test('seed 000: upstream, aliases, body and header limits; the rest listed, not dropped', () => {
  const text = convertAndCheck(join(seeds, '000', 'nginx.conf'));
  assert.match(text, /^http = :80$/m);
  assert.match(text, /^static-map = \/media=\/you\/path\/media$/m);
  assert.match(text, /^static-map = \/static=\/you\/path\/staticfiles$/m);
  assert.match(text, /^proxy-pass = \/=djangostream$/m);
  assert.match(text, /^\[upstream:djangostream\]\nserver = uwsgi:\/\/127\.0\.0\.1:8001$/m);
  assert.match(text, /^limit-post = 78643200$/m);
  assert.match(text, /^buffer-size = 65536$/m);
  assert.match(text, /^# not translated: charset utf-8 \(line 13\): /m);
  assert.match(text, /^# include .*uwsgi_params \(line 32\): implied/m);
  assert.match(text, /replace the route with module = /);
});

test('seed 001 converts and checks', () => {
  const text = convertAndCheck(join(seeds, '001', 'mysite_nginx.conf'));
  assert.match(text, /^http = :8000$/m);
  assert.match(text, /^\[upstream:django\]\nserver = uwsgi:\/\/127\.0\.0\.1:8001$/m);
});

test('seed 002: full-width spaces, http block, a bare uwsgi_pass address, an exact location', () => {
  const text = convertAndCheck(join(seeds, '002', 'nginx.conf'));
  assert.match(text, /^# note: .*U\+3000/m);
  assert.match(text, /^proxy-pass = \/=backend$/m);
  assert.match(text, /^\[upstream:backend\]\n(?:#.*\n)*server = uwsgi:\/\/0\.0\.0\.0:8000$/m);
  assert.match(text, /^static-map = \/static=\/opt\/nginx1-12\/static$/m);
  assert.match(text, /^static-map = \/media=\/opt\/nginx1-12\/media$/m);
  for (const d of ['worker_processes 1 (line 1)', 'events (line 4)', 'sendfile on (line 14)', 'keepalive_timeout 65 (line 15)', 'error_page 500 502 503 504 /50x.html (line 36)', 'location = /50x.html (line 37)', 'root html (line 25)', 'index index.html index.htm (line 26)']) {
    assert.ok(text.includes(`# not translated: ${d}`), d);
  }
  assert.match(text, /^# include mime\.types \(line 8\): implied/m);
});

test('seed 004: two servers in one upstream', () => {
  const text = convertAndCheck(join(seeds, '004', 'nginx.conf'));
  assert.match(text, /^\[upstream:ems\]\nserver = uwsgi:\/\/192\.168\.157\.141:9001\nserver = uwsgi:\/\/192\.168\.157\.142:9001$/m);
  assert.match(text, /^static-map = \/static=\/usr\/local\/static$/m);
});

test('several servers route by server_name; proxy_pass, unix sockets and server flags carry over', () => {
  const file = join(dir, 'multi.conf');
  writeFileSync(file, [
    'upstream api { least_conn; server 127.0.0.1:9001 weight=5 max_fails=3 fail_timeout=10s; server unix:/run/api.sock backup; server 127.0.0.1:9003 down; }',
    'server { listen 127.0.0.1:8080; server_name api.example.com; location /v1 { proxy_pass http://api; } }',
    'server { listen 8080; server_name .example.org; location / { uwsgi_pass unix:///run/app.sock; } location /files { root /srv; } }',
  ].join('\n'));
  const { text } = migrateNginx(file);
  assert.match(text, /^http = 127\.0\.0\.1:8080$/m);
  assert.match(text, /^http = :8080$/m);
  assert.match(text, /^proxy-pass = api\.example\.com\/v1=api$/m);
  assert.match(text, /^proxy-pass = example\.org\/=backend$/m);
  assert.match(text, /^proxy-pass = \*\.example\.org\/=backend$/m);
  assert.match(text, /^static-map2 = \/files=\/srv$/m);
  assert.match(text, /^\[upstream:api\]\nserver = http:\/\/127\.0\.0\.1:9001 weight=5 max_fails=3 fail_timeout=10s\nserver = http:\/\/\/run\/api\.sock backup\nserver = http:\/\/127\.0\.0\.1:9003 down\nbalance = least-conn$/m);
  assert.match(text, /^server = uwsgi:\/\/\/run\/app\.sock$/m);
  writeFileSync(join(dir, 'multi.ini'), text);
  const check = spawnSync(process.execPath, [BERTH_BIN, 'check', '--ini', join(dir, 'multi.ini')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr + check.stdout);
});

test('location = becomes an exact route, ^~ a prefix, proxy_pass keeps its URI part; regex locations are listed with a fix', () => {
  const file = join(dir, 'match.conf');
  writeFileSync(file, [
    'upstream api { server 127.0.0.1:9001; }',
    'server {',
    '  listen 8080;',
    '  location = /login { proxy_pass http://api/auth/login; }',
    '  location ^~ /assets { alias /srv/assets; }',
    '  location /v2/ { proxy_pass http://api/v1/; }',
    '  location / { proxy_pass http://api; }',
    '  location ~ \\.php$ { proxy_pass http://api; }',
    '  location ~* \\.(png|jpg)$ { root /srv; }',
    '  location = /robots.txt { root /srv; }',
    '}',
  ].join('\n'));
  const { text } = migrateNginx(file);
  assert.match(text, /^proxy-pass = =\/login=api\/auth\/login$/m);
  assert.match(text, /^static-map = \/assets=\/srv\/assets$/m);
  assert.match(text, /^proxy-pass = \/v2\/=api\/v1\/$/m);
  assert.match(text, /^proxy-pass = \/=api$/m);
  assert.match(text, /^# not translated: location ~ \.php\$ \(line 8\): '~' \(regular expression\) locations .*Fix: /m);
  assert.match(text, /^# not translated: location ~\* \.\(png\|jpg\)\$ \(line 9\): '~\*' \(regular expression\)/m);
  assert.match(text, /^# not translated: location = \/robots\.txt \(line 10\): exact locations/m);
  assert.doesNotMatch(text, /URI part/);
  writeFileSync(join(dir, 'match.ini'), text);
  const check = spawnSync(process.execPath, [BERTH_BIN, 'check', '--ini', join(dir, 'match.ini')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr + check.stdout);
  assert.match(check.stdout, /\*=\/login  proxy → \[upstream:api\] \(\/login sent as \/auth\/login\)/);
});
