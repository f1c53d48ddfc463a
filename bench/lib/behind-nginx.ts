// Launcher for the "behind nginx" bench servers: real nginx on the bench port,
// `uwsgi_pass unix:<tmp>/app.sock` to a backend (Berth `--socket` or uWSGI
// `--socket`, same app, same 2 workers (THREADS each, 1 by default), socket mode 666 so nginx's worker user
// can connect), as in the classic deployment. It runs
// both as children, forwards SIGTERM/SIGINT, and exits when both have stopped,
// so the bench measures and stops the whole tree like any other server.
//
//   node dist/bench/lib/behind-nginx.js berth|berth-master|berth-nobatch|berth-smap|berth-smap-direct|uwsgi|uwsgi-smap|static PORT APPDIR MODULE PYTHON BERTH_BIN [STATIC_DIR|""] [THREADS]
//
// `berth` runs Berth as configured by default; `berth-master` with uwsgi-direct = false, so
// every request passes through the master (the path before uwsgi-direct); `berth-nobatch` with
// uwsgi-direct-batch = false; `berth-smap` and `uwsgi-smap` with a static-map of /static as
// well (the seed deployments' ini: Berth then routes through the master by default), and
// `berth-smap-direct` the same with uwsgi-direct = true (the workers relay the static paths).
//
// `static` runs nginx alone, serving STATIC_DIR under /static/ (the static-file bench).
// `berth-tls`: nginx terminates TLS (`listen … ssl`, a self-signed certificate made here) in
// front of the default Berth (session s16T's comparison with Berth's own `https`).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [backend, port, appDir, module, python, berthBin, staticDir, threads = '1'] = process.argv.slice(2) as [string, string, string, string, string, string, string | undefined, string | undefined];
if (!['berth', 'berth-tls', 'berth-master', 'berth-nobatch', 'berth-smap', 'berth-smap-direct', 'uwsgi', 'uwsgi-smap', 'static'].includes(backend) || !port || (backend === 'static' && !staticDir) || !/^[1-9]\d*$/.test(threads)) {
  process.stderr.write('usage: behind-nginx.js berth|berth-master|berth-nobatch|berth-smap|berth-smap-direct|uwsgi|uwsgi-smap|static PORT APPDIR MODULE PYTHON BERTH_BIN [STATIC_DIR|""] [THREADS]\n');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-nginx-'));
// nginx's workers run as nobody when started by root: they must reach the socket.
chmodSync(dir, 0o755);
const sock = join(dir, 'app.sock');
const tls = backend === 'berth-tls';
if (tls) execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port}${tls ? ` ssl;\n    ssl_certificate ${dir}/tls.crt;\n    ssl_certificate_key ${dir}/tls.key` : ''};
    ${backend === 'static'
      ? `location /static/ { alias ${staticDir}/; }\n    location / { return 404; }`
      : `location / { uwsgi_pass unix:${sock}; include /etc/nginx/uwsgi_params; }`}
  }
}
`);

// The -smap backends: a static-map of /static, as the seed ini files have: to STATIC_DIR in
// the static scenarios (nginx passes those requests on), else to an empty directory.
const staticMap: string[] = [];
if (backend.includes('-smap')) {
  const root = staticDir || join(dir, 'static');
  if (!staticDir) mkdirSync(root);
  staticMap.push('--static-map', `/static=${root}`);
}

const backendCmd: [string, string[]] = backend.startsWith('berth')
  ? [process.execPath, [berthBin, '--socket', sock, '--chdir', appDir, '--module', module, '--processes', '2', '--threads', threads, '--python', python, '--disable-logging', '--chmod-socket=666',
    ...(backend === 'berth-master' ? ['--uwsgi-direct=false'] : []), ...(backend === 'berth-smap-direct' ? ['--uwsgi-direct'] : []), ...(backend === 'berth-nobatch' ? ['--uwsgi-direct-batch=false'] : []), ...staticMap]]
  : ['uwsgi', ['--plugin', 'python3', '--socket', sock, '--master', '--processes', '2', '--threads', threads, '--chdir', appDir, '--module', module, '--disable-logging', '--die-on-term', '--chmod-socket=666', ...staticMap]];

const children: ChildProcess[] = [];
let stopping = false;
function stopAll(): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill(c === children[0] ? 'SIGTERM' : 'SIGQUIT');
  setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 5000).unref();
}
process.on('SIGTERM', stopAll);
process.on('SIGINT', stopAll);

let remaining = backend === 'static' ? 1 : 2;
const onExit = (): void => {
  stopAll();
  if (--remaining === 0) {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
};
if (backend !== 'static') {
  const app = spawn(backendCmd[0], backendCmd[1], { stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(app);
  app.on('exit', onExit);
}
// nginx starts once the backend's socket exists, so the first requests do not 502.
const waitForSocket = setInterval(() => {
  if (backend !== 'static' && !socketExists(sock)) return;
  clearInterval(waitForSocket);
  const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(nginx);
  nginx.on('exit', onExit);
}, 50);

function socketExists(p: string): boolean {
  try {
    return statSync(p).isSocket();
  } catch {
    return false;
  }
}
