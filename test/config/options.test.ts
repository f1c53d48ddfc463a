import test from 'node:test';
import assert from 'node:assert/strict';
import { parseValue } from '../../src/config/map.js';
import { OPTIONS, findOption, findShort } from '../../src/config/options.js';

const PLANNED = [
  'master-fifo', 'evil-reload-on-rss', 'reload-on-as', 'limit-as', 'fs-reload', 'log-date',
  'log-x-forwarded-for', 'logger', 'req-logger', 'route', 'offload-threads', 'cheaper', 'async', 'gevent', 'ugreen', 'procname-prefix',
];
const ACCEPTED = [
  'enable-threads', 'plugin', 'plugins', 'die-on-term', 'strict', 'single-interpreter',
  'no-orphans', 'thunder-lock', 'post-buffering', 'http-keepalive', 'memory-report',
];
const SUPPORTED: Record<string, string[]> = {
  stats: ['stats-server'], 'stats-http': [], 'stats-minified': ['stats-min'], 'stats-no-cores': [], metrics: [],
  'stats-redact': [], 'stats-show-secrets': [],
  http: [], 'http-socket': [], module: ['wsgi'], 'wsgi-file': ['file'], callable: [], chdir: [],
  home: ['virtualenv', 'venv', 'pyhome'], python: [], pythonpath: ['pp'], env: [], master: [], processes: ['workers'],
  threads: [], 'buffer-size': [], 'limit-post': [], listen: [], 'http-timeout': [], 'socket-timeout': [], logto: [],
  'disable-logging': [], ini: [], 'set-placeholder': ['set-ph'], socket: ['uwsgi-socket', 'shared-socket'], 'chmod-socket': [],
  'chown-socket': [], vacuum: [], 'detect-protocol': [], 'uwsgi-allow': [], mount: [], 'manage-script-name': [],
  'static-map': [], 'static-map2': [], 'check-static': [], 'static-index': [], 'static-skip-ext': [], 'static-expires-type': [],
  'static-expires': [], 'static-expires-uri': [], 'static-gzip-all': [], 'static-safe': [], mimefile: ['mime-file'], 'static-404': [],
  'static-from-django': [], pidfile: [], pidfile2: [], daemonize: [], daemonize2: [], uid: [], gid: [], umask: [],
  'lazy-apps': ['lazy'], 'chain-reload': [], 'reload-mercy': [], 'worker-reload-mercy': [], 'max-requests': [],
  'max-requests-delta': [], 'min-worker-lifetime': [], 'max-worker-lifetime': [], 'reload-on-rss': [], harakiri: [],
  'harakiri-verbose': [], 'touch-reload': [], 'touch-chain-reload': [], 'py-autoreload': ['python-autoreload'],
  'log-maxsize': [], 'log-backupname': [], 'log-backups': [], 'log-reopen': [], 'touch-logreopen': [], 'log-4xx': [],
  'log-5xx': [], 'log-slow': [], 'log-format': ['logformat'], 'log-json': [],
};

test('planned options are refused with what to do meanwhile', () => {
  for (const name of PLANNED) {
    const o = findOption(name);
    assert.equal(o?.status, 'planned', name);
    assert.ok((o?.reason ?? '').length > 10, `${name} needs a reason`);
  }
});

test('need-app is read, not only accepted: need-app = false lets Berth start without an app', () => {
  assert.equal(findOption('need-app')?.status, 'supported');
  assert.equal(findOption('need-app')?.field, 'needApp');
});

test('accepted options say why they are harmless', () => {
  for (const name of ACCEPTED) {
    const o = findOption(name);
    assert.equal(o?.status, 'accepted', name);
    assert.ok((o?.reason ?? '').length > 10, `${name} needs a reason`);
  }
});

test('supported options and their aliases', () => {
  for (const [name, aliases] of Object.entries(SUPPORTED)) {
    assert.equal(findOption(name)?.status, 'supported', name);
    for (const a of aliases) assert.equal(findOption(a), findOption(name), `${a} → ${name}`);
  }
  for (const [letter, name] of [['p', 'processes'], ['w', 'module'], ['H', 'home'], ['L', 'disable-logging'], ['b', 'buffer-size'], ['l', 'listen'], ['M', 'master']]) {
    assert.equal(findShort(letter as string)?.name, name);
  }
  assert.equal(findOption('http-socket')?.field, findOption('http')?.field);
});

test('every row is complete and every default parses', () => {
  for (const o of OPTIONS) {
    assert.ok(o.help.length > 10, `${o.name}: help`);
    assert.equal(o.status === 'supported', o.reason === undefined, `${o.name}: reason exactly for accepted/planned`);
    assert.ok(o.status !== 'supported' || o.field !== undefined || o.role !== undefined, `${o.name}: feeds nothing`);
    if (o.default !== undefined) assert.ok(parseValue(o, o.default, '/').ok, `${o.name}: default ${o.default}`);
    assert.match(o.name, /^[a-z0-9-]+$/);
  }
});
