/**
 * The last seed's goal on real (namespaced) hosts: one front, two app hosts serving the same
 * Django project, one MariaDB host they share. Each host is a network namespace made here
 * (test/helpers/netns.ts) with one 127.0.10.x address, so every host uses the seed's own ports
 * (9000/9001/9002 on the app hosts, 80 on the front, 3306 for the database). The app hosts run
 * the seed's config.ini as written (daemonize, pidfile, 4 × 2); the front is first Berth running
 * what `berth migrate nginx` makes of the seed's nginx.conf, then real nginx running that same
 * nginx.conf. Through each: log in to the admin, keep the session across both app hosts, create a
 * Group on one and read it on the other, and stop an app host under a steady stream of GETs
 * without one failing. The test process reaches the front through a unix-socket relay running
 * inside the front's namespace.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { BERTH_BIN, debianPython, REPO, runBerth } from '../helpers/berth.js';
import { nginxMainConf, requireNginx, sharedTempDir, NGINX_BIN, UWSGI_PARAMS } from '../helpers/nginx.js';
import { adaptedSeed, djangoProject, isAlive, shellEnv, until, writeAdapted } from '../helpers/seeds.js';
import { createNetwork, requireNetnsCapability, type Network } from '../helpers/netns.js';
import { requireMariadb, startMariadb, type RunningMariadb } from '../helpers/mariadb.js';
import { DjangoBrowser } from '../helpers/django-browser.js';

const FRONT_IP = '127.0.10.1';
const DB = { host: '127.0.10.4', port: 3306, name: 'ems', user: 'ems', password: 'ems-password' };
const ADMIN = { username: 'admin', password: 'admin-password' };
const FORWARD_JS = join(REPO, 'dist', 'test', 'helpers', 'netns-forward.js');

interface AppHost { readonly name: string; readonly ip: string; home: string; pid: number }
const APPS: AppHost[] = [{ name: 'app1', ip: '127.0.10.2', home: '', pid: 0 }, { name: 'app2', ip: '127.0.10.3', home: '', pid: 0 }];

let net: Network | undefined;
let project = '';
let dbDir = '';
let frontHome = '';
let mariadb: RunningMariadb | undefined;
let relay: ChildProcess | undefined;
let relaySock = '';

const MIDDLEWARE = `import os


def name_the_host(get_response):
    """Says which app host answered (the test checks requests land on both)."""
    def middleware(request):
        response = get_response(request)
        response["X-App-Host"] = os.environ.get("APP_HOST", "unknown")
        return response
    return middleware
`;

const SETTINGS_FOR_THE_SHARED_DATABASE = `
# The multi-host test: every app host uses the one MariaDB on the db host.
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "NAME": "${DB.name}", "USER": "${DB.user}",
    "PASSWORD": "${DB.password}", "HOST": "${DB.host}", "PORT": "${DB.port}", "OPTIONS": {"charset": "utf8mb4"}}}
MIDDLEWARE.insert(0, "hello.apphost.name_the_host")
`;

const uwsgiLog = (h: AppHost): string => {
  try {
    return readFileSync(join(h.home, 'uwsgi.log'), 'utf8');
  } catch {
    return '(no uwsgi.log)';
  }
};
const diagnostics = (): string => APPS.map((h) => `--- ${h.name} uwsgi.log (tail)\n${uwsgiLog(h).slice(-1500)}`).join('\n');

/** Starts the seed's config.ini on an app host (daemonized: returns once listening) and waits for its workers. */
async function startAppHost(h: AppHost): Promise<void> {
  const logBefore = uwsgiLog(h).length;
  net!.run(h.name, [process.execPath, BERTH_BIN, '--ini', join(h.home, 'config.ini'), '--python', debianPython()], {
    cwd: h.home, env: { ...shellEnv(), APP_HOST: h.name },
  });
  h.pid = Number(readFileSync(join(h.home, 'uwsgi.pid'), 'utf8').trim());
  await until(`${h.name}'s 4 workers`, async () => {
    if (!/all 4 worker\(s\) ready/.test(uwsgiLog(h).slice(logBefore))) throw new Error(uwsgiLog(h).slice(-800));
  }, 60_000);
}

async function stopAppHost(h: AppHost): Promise<void> {
  if (h.pid > 0 && isAlive(h.pid)) await runBerth(['--stop', join(h.home, 'uwsgi.pid')]);
  if (h.pid > 0 && isAlive(h.pid)) process.kill(h.pid, 'SIGKILL');
  h.pid = 0;
}

before(async () => {
  requireNetnsCapability();
  requireMariadb();
  requireNginx();
  net = createNetwork([
    { name: 'front', ip: FRONT_IP },
    ...APPS.map((h) => ({ name: h.name, ip: h.ip })),
    { name: 'db', ip: DB.host },
  ]);
  dbDir = mkdtempSync(join(tmpdir(), 'berth-mh-db-'));
  mariadb = await startMariadb(net, 'db', dbDir, DB);

  // The project as the note's reader makes it, then pointed at the shared database and migrated
  // there once (from an app host: only the 127.0.10.x hosts reach the db host).
  project = djangoProject('ems_project');
  writeFileSync(join(project, 'hello', 'apphost.py'), MIDDLEWARE);
  appendFileSync(join(project, 'ems_project', 'settings.py'), SETTINGS_FOR_THE_SHARED_DATABASE);
  rmSync(join(project, 'db.sqlite3'), { force: true });
  const python = debianPython();
  net.run('app1', [python, 'manage.py', 'migrate', '--noinput', '-v', '0'], { cwd: project });
  net.run('app1', [python, 'manage.py', 'createsuperuser', '--noinput', '-v', '0'], {
    cwd: project, env: { DJANGO_SUPERUSER_USERNAME: ADMIN.username, DJANGO_SUPERUSER_PASSWORD: ADMIN.password, DJANGO_SUPERUSER_EMAIL: 'admin@example.com' },
  });

  // Each app host gets its own copy of the project (as on two cloned machines) and the seed's config.ini.
  for (const h of APPS) {
    h.home = sharedTempDir(`berth-mh-${h.name}-`);
    cpSync(project, join(h.home, 'ems_project'), { recursive: true });
    writeAdapted(h.home, 'config.ini', adaptedSeed('004/config.ini', [
      ['192.168.134.128', h.ip],
      ['/usr/local/django_projects/ems_project', join(h.home, 'ems_project')],
      ['/usr/local/django_projects/ems', h.home],
      ['/usr/local/项目目录/static', join(h.home, 'ems_project', 'static')],
    ]));
    await startAppHost(h);
  }

  // The front host has its own copy of the collected static files (the seed's `alias /usr/local/static`).
  frontHome = sharedTempDir('berth-mh-front-');
  cpSync(join(project, 'static'), join(frontHome, 'static'), { recursive: true });
  writeAdapted(frontHome, 'nginx.conf', adaptedSeed('004/nginx.conf', [
    ['192.168.157.141:9001', `${APPS[0]!.ip}:9001`],
    ['192.168.157.142:9001', `${APPS[1]!.ip}:9001`],
    ['server_name  192.168.157.142;', `server_name  ${FRONT_IP};`],
    ['listen 80;', `listen ${FRONT_IP}:80;`],
    ['/usr/local/nginx/conf/uwsgi_params', UWSGI_PARAMS],
    ['/usr/local/static', join(frontHome, 'static')],
  ]));

  relaySock = join(frontHome, 'front.sock');
  relay = net.spawn('front', [process.execPath, FORWARD_JS, relaySock, FRONT_IP, '80']);
  const [ready] = (await Promise.race([once(relay.stdout!, 'data'), once(relay, 'exit')])) as [Buffer | number];
  assert.match(String(ready), /ready/, 'the relay into the front namespace did not start');
});

after(async () => {
  try {
    relay?.kill('SIGTERM');
    for (const h of APPS) await stopAppHost(h).catch(() => undefined);
    await mariadb?.stop();
  } finally {
    // Whatever a failure left behind (a front, a worker) dies with its namespace.
    try {
      net?.destroy();
    } finally {
      for (const d of [project, dbDir, frontHome, ...APPS.map((h) => h.home)]) if (d !== '') rmSync(d, { recursive: true, force: true });
    }
  }
});

interface Front {
  stop(): Promise<void>;
  log(): string;
  /** The log line saying the front took a lost app host out of rotation. */
  markedOut(ip: string): RegExp;
}

/** Berth as a pure front, running exactly what `berth migrate nginx` prints for the seed's nginx.conf. */
async function startBerthFront(): Promise<Front> {
  const migrated = await runBerth(['migrate', 'nginx', join(frontHome, 'nginx.conf')]);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match(migrated.stdout, /^\[upstream:ems\]$/m);
  assert.match(migrated.stdout, /^server = uwsgi:\/\/127\.0\.10\.2:9001$/m);
  assert.match(migrated.stdout, /^proxy-pass = \/=ems$/m);
  const ini = writeAdapted(frontHome, 'front.ini', migrated.stdout);
  const proc = net!.spawn('front', [process.execPath, BERTH_BIN, '--ini', ini], { cwd: frontHome });
  let log = '';
  proc.stdout!.setEncoding('utf8').on('data', (t: string) => (log += t));
  proc.stderr!.setEncoding('utf8').on('data', (t: string) => (log += t));
  const exited = once(proc, 'exit');
  await until('the Berth front listening', async () => {
    if (proc.exitCode !== null) throw new Error(`exited: ${log}`);
    if (!/listening on http:\/\/127\.0\.10\.1:80\b/.test(log)) throw new Error(log);
  });
  return {
    log: () => log,
    markedOut: (ip) => new RegExp(`upstream ems: backend uwsgi://${ip.replace(/\./g, '\\.')}:9001 .*out for fail_timeout`),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Real nginx with the seed's own nginx.conf (addresses and paths rewritten) in an http block of its own. */
async function startNginxFront(): Promise<Front> {
  const dir = join(frontHome, 'nginx');
  const conf = join(dir, 'main.conf');
  mkdirSync(dir, { recursive: true });
  writeFileSync(conf, nginxMainConf(dir, `  include ${join(frontHome, 'nginx.conf')};`));
  const proc = net!.spawn('front', [NGINX_BIN, '-e', 'stderr', '-c', conf, '-p', dir]);
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
  proc.stderr!.setEncoding('utf8').on('data', (t: string) => (out += t));
  const exited = once(proc, 'exit');
  const log = (): string => {
    try {
      return out + readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return out;
    }
  };
  const probe = new DjangoBrowser(relaySock, FRONT_IP);
  await until('nginx answering on 127.0.10.1:80', async () => {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${log()}`);
    const page = await probe.get('/static/admin/css/base.css');
    if (page.status !== 200) throw new Error(`status ${page.status}`);
  });
  return {
    log,
    markedOut: (ip) => new RegExp(`upstream server temporarily disabled.*upstream: "uwsgi://${ip.replace(/\./g, '\\.')}:9001`),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGQUIT');
      await exited;
    },
  };
}

/**
 * GETs /admin/ with the session from `streams` loops until stop() is called; every answer must be
 * the logged-in admin index. Counts what was done so the test can wait on progress, not on time.
 */
function steadyGets(browser: DjangoBrowser, streams = 4): { done(): number; started(): number; served(): string[]; servedStartingFrom(mark: number): string[]; failures: string[]; stop(): Promise<void> } {
  const served: string[] = [];
  // The start number of each served request: an answer the killed host sent just before it died
  // can arrive after the test saw it gone, so "after" means started after, not answered after.
  const servedStarts: number[] = [];
  let starts = 0;
  const failures: string[] = [];
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      const start = starts++;
      try {
        const page = await browser.get('/admin/');
        if (page.status !== 200 || !page.body.includes('/admin/logout/')) failures.push(`${page.status} from ${page.appHost}: ${page.body.slice(0, 200)}`);
        else {
          served.push(page.appHost ?? 'unknown');
          servedStarts.push(start);
        }
      } catch (err) {
        failures.push(`request failed: ${(err as Error).message}`);
      }
    }
  };
  const loops = Array.from({ length: streams }, loop);
  return {
    done: () => served.length + failures.length,
    started: () => starts,
    served: () => served,
    servedStartingFrom: (mark) => served.filter((_, i) => servedStarts[i]! >= mark),
    failures,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function progress(stream: ReturnType<typeof steadyGets>, more: number, what: string): Promise<void> {
  const target = stream.done() + more;
  await until(`${more} more requests ${what}`, async () => {
    if (stream.done() < target) throw new Error(`${stream.done()}/${target}; failures: ${stream.failures.slice(0, 3).join(' | ')}`);
  }, 60_000);
}

/** Stops app host `h` while requests stream through the front; none may fail, and the survivor serves the rest. */
async function loseAnAppHost(browser: DjangoBrowser, h: AppHost, how: 'SIGTERM' | 'SIGKILL', front: Front): Promise<void> {
  const stream = steadyGets(browser);
  try {
    // A host restarted by an earlier test is out at the front until its fail_timeout passes (passive
    // health, as nginx): wait until the front sends requests to both again.
    await until('both app hosts serving through the front', async () => {
      const hosts = new Set(stream.served().slice(-40));
      if (stream.failures.length > 0 || hosts.size < APPS.length) throw new Error(`recent requests served by ${[...hosts].join(', ')}; failures: ${stream.failures.slice(0, 3).join(' | ')}`);
    }, 60_000);
    if (how === 'SIGTERM') {
      process.kill(h.pid, 'SIGTERM');
    } else {
      // The hard case: the whole host dies at once, master and workers, mid-request.
      for (const pid of net!.pids(h.name)) {
        // A worker whose master was just killed may exit on its own before its turn comes.
        try { process.kill(pid, 'SIGKILL'); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; }
      }
    }
    await until(`${h.name} gone`, async () => {
      if (net!.pids(h.name).length > 0) throw new Error(`still running: ${net!.pids(h.name).join(' ')}`);
    }, 30_000);
    const mark = stream.started();
    await progress(stream, 60, `after ${h.name} is gone`);
    assert.match(front.log(), front.markedOut(h.ip), `the front did not log taking ${h.name} out`);
    const afterwards = new Set(stream.servedStartingFrom(mark));
    assert.deepEqual(afterwards, new Set(APPS.filter((a) => a !== h).map((a) => a.name)), 'once it is gone, only the other host serves');
  } finally {
    await stream.stop();
    // Back up whatever happened, so the next front's tests start with both hosts (a failure here
    // is this test's, not theirs).
    if (net!.pids(h.name).length === 0) {
      h.pid = 0;
      await startAppHost(h);
    }
  }
  assert.deepEqual(stream.failures, [], `requests failed while ${h.name} was stopped (${how}):\n${front.log().slice(-2000)}\n${diagnostics()}`);
}

function frontSuite(name: string, start: () => Promise<Front>, losses: readonly [number, 'SIGTERM' | 'SIGKILL'][]): void {
  describe(name, () => {
    let front: Front | undefined;
    const browser = (): DjangoBrowser => new DjangoBrowser(relaySock, FRONT_IP);
    let admin: DjangoBrowser;
    before(async () => {
      front = await start();
      admin = browser();
    });
    after(async () => {
      await front?.stop();
    });

    test(`${name}: serves /static itself and logs in to the admin; the session holds on both app hosts`, async () => {
      const css = await admin.get('/static/admin/css/base.css');
      assert.equal(css.status, 200, `GET /static/admin/css/base.css: ${css.status}\n${front!.log().slice(-1500)}`);
      assert.equal(css.appHost, undefined, 'static files come from the front host, not an app host');
      const index = await admin.login(ADMIN.username, ADMIN.password);
      assert.equal(index.status, 200, `${index.status}\n${diagnostics()}`);
      assert.match(index.body, /Site administration/);
      const hosts = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const page = await admin.get('/admin/');
        assert.equal(page.status, 200, `${page.status}: ${page.body.slice(0, 300)}\n${front!.log().slice(-1500)}`);
        assert.ok(page.body.includes('/admin/logout/'), `request ${i} (served by ${page.appHost}) is not logged in: the session did not carry over`);
        hosts.add(page.appHost ?? 'unknown');
      }
      assert.deepEqual(hosts, new Set(APPS.map((h) => h.name)), 'the requests landed on both app hosts');
    });

    test(`${name}: a Group created through one app host is read back through the other`, async () => {
      const group = `group-${name.replace(/\W+/g, '-')}-${process.pid}`;
      const saved = await admin.addGroup(group);
      assert.equal(saved.status, 302, `adding the group: ${saved.status}\n${saved.body.slice(0, 800)}`);
      assert.ok(saved.appHost, 'the POST answer names no app host');
      let readBack = false;
      for (let i = 0; i < 10 && !readBack; i++) {
        const list = await admin.get(`/admin/auth/group/?q=${group}`);
        assert.equal(list.status, 200);
        if (list.appHost === saved.appHost) continue;
        assert.ok(list.body.includes(group), `${list.appHost} does not list ${group}, created on ${saved.appHost}: the hosts do not share the database`);
        readBack = true;
      }
      assert.ok(readBack, `ten reads all landed on ${saved.appHost}, the host that created the group`);
    });

    for (const [index, how] of losses) {
      test(`${name}: ${APPS[index]!.name} stopped (${how}) under a steady stream of GETs; not one fails`, async () => {
        await loseAnAppHost(admin, APPS[index]!, how, front!);
      });
    }
  });
}

frontSuite('Berth front (berth migrate nginx of the seed)', startBerthFront, [[1, 'SIGTERM'], [0, 'SIGKILL']]);
frontSuite('nginx front (the seed\'s nginx.conf)', startNginxFront, [[1, 'SIGKILL']]);
