/**
 * The four seed nginx files through `berth migrate nginx`, then served: each file is adapted
 * only in what a test machine needs (listen port, the upstream/uwsgi_pass addresses now the
 * test's own Berth app backends on uwsgi sockets at 127.0.0.2/127.0.0.3, alias dirs now temp
 * dirs with a real file), converted by the CLI, and run as is with `berth --ini` as a pure front.
 * Through it: a page from the app, a static file from each alias, a body over
 * client_max_body_size (nginx's default 1m where the file sets none) refused with 413.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianPython, runBerth, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { freePort } from '../../helpers/nginx.js';
import { exchangeRaw, statuses } from '../../helpers/raw-http.js';
import { adaptedSeed, withFreshPorts, writeAdapted } from '../../helpers/seeds.js';

const APP = `import os

def application(environ, start_response):
    body = ('backend %s path=%s uri=%s' % (os.environ['SEED_BACKEND'], environ['PATH_INFO'], environ['REQUEST_URI'])).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

interface Seed {
  readonly file: string;
  /** The seed's own strings for its port, backend addresses and alias dirs → this machine's. */
  readonly adapt: (port: number, b1: string, b2: string, dirs: Record<string, string>) => [string, string][];
  readonly aliases: readonly string[];
  readonly limit: number;
  /** Both backends get requests (seed 004's upstream has two servers). */
  readonly both: boolean;
}

const MIB = 1024 * 1024;
const SEEDS: readonly Seed[] = [
  {
    file: '000/nginx.conf', aliases: ['/media', '/static'], limit: 75 * MIB, both: false,
    adapt: (port, b1, _b2, d) => [['listen      80;', `listen      127.0.0.1:${port};`], ['127.0.0.1:8001', b1], ['/you/path/media', d['/media']!], ['/you/path/staticfiles', d['/static']!]],
  },
  {
    file: '001/mysite_nginx.conf', aliases: ['/media', '/static'], limit: 75 * MIB, both: false,
    adapt: (port, b1, _b2, d) => [['listen      8000;', `listen      127.0.0.1:${port};`], ['127.0.0.1:8001', b1], ['/root/mysite/media', d['/media']!], ['/root/mysite/static', d['/static']!]],
  },
  {
    file: '002/nginx.conf', aliases: ['/static', '/media'], limit: MIB, both: false,
    adapt: (port, b1, _b2, d) => [['listen       80;', `listen       127.0.0.1:${port};`], ['0.0.0.0:8000', b1], ['/opt/nginx1-12/static', d['/static']!], ['/opt/nginx1-12/media', d['/media']!]],
  },
  {
    file: '004/nginx.conf', aliases: ['/static'], limit: MIB, both: true,
    adapt: (port, b1, b2, d) => [['listen 80;', `listen 127.0.0.1:${port};`], ['192.168.157.141:9001', b1], ['192.168.157.142:9001', b2], ['/usr/local/static', d['/static']!]],
  },
];

describe('the seed nginx files, converted by berth migrate nginx, served by a pure Berth front', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seed-migrate-'));
  const backends: RunningBerth[] = [];
  const addrs: string[] = [];

  before(async () => {
    const app = join(dir, 'seed_app.py');
    writeFileSync(app, APP);
    for (const [name, ip] of [['b1', '127.0.0.2'], ['b2', '127.0.0.3']] as const) {
      const b = await startBerth(['--socket', `${ip}:0`, '--wsgi-file', app, '--processes', '1', '--python', debianPython(), '--disable-logging'], { env: { SEED_BACKEND: name } });
      backends.push(b);
      addrs.push(`${ip}:${b.port}`);
    }
  });
  after(async () => {
    for (const b of backends) await b.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const seed of SEEDS) {
    it(`${seed.file}: converted, run with berth --ini, serves the app, the aliases and 413`, async () => {
      const work = mkdtempSync(join(dir, seed.file.replace(/\W+/g, '_')));
      const dirs: Record<string, string> = {};
      for (const a of seed.aliases) {
        dirs[a] = join(work, a.slice(1));
        mkdirSync(dirs[a]!);
        writeFileSync(join(dirs[a]!, 'seed.txt'), `file from ${a} of ${seed.file}\n`);
      }
      const front = await withFreshPorts(async () => {
        const port = await freePort();
        const conf = writeAdapted(work, 'nginx.conf', adaptedSeed(seed.file, seed.adapt(port, addrs[0]!, addrs[1]!, dirs)));
        const migrated = await runBerth(['migrate', 'nginx', conf]);
        assert.equal(migrated.code, 0, migrated.stderr);
        assert.match(migrated.stdout, new RegExp(`^limit-post = ${seed.limit}$`, 'm'));
        const ini = join(work, 'site.ini');
        writeFileSync(ini, migrated.stdout);
        return startBerth(['--ini', ini], { waitReady: false });
      });
      try {
        assert.doesNotMatch(front.logs(), /spawned .*worker|app ready/, 'a pure front starts no Python');
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++) {
          const r = await fetch(front.url(`/polls/${i}/?q=${i}`));
          const text = await r.text();
          assert.equal(r.status, 200, text);
          const m = /^backend (b\d) path=\/polls\/(\d)\/ uri=\/polls\/(\d)\/\?q=(\d)$/.exec(text);
          assert.ok(m !== null && m[2] === String(i) && m[4] === String(i), text);
          seen.add(m[1]!);
        }
        assert.deepEqual([...seen].sort(), seed.both ? ['b1', 'b2'] : ['b1']);
        for (const a of seed.aliases) {
          const r = await fetch(front.url(`${a}/seed.txt`));
          assert.equal(r.status, 200, a);
          assert.equal(await r.text(), `file from ${a} of ${seed.file}\n`);
        }
        const small = await fetch(front.url('/upload/'), { method: 'POST', body: Buffer.alloc(1000, 120) });
        assert.equal(small.status, 200, await small.text());
        const head = `POST /upload/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${seed.limit + 1}\r\n\r\n`;
        const { text } = await exchangeRaw(front.port, head);
        assert.deepEqual(statuses(text), [413], text);
      } finally {
        await front.stop();
      }
    });
  }
});
