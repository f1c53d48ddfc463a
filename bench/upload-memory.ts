/**
 * Growth of Berth's master RSS during a 75 MB upload through nginx (uwsgi-direct: nginx → the
 * worker, which relays a body over 1 MiB to the master, which spools it and feeds it back), as
 * test/e2e/nginx-upstream.test.ts asserts it (< 40 MiB), repeated to show the distribution.
 * Load the machine yourself for the worst case (e.g. two `while :; do :; done` loops).
 * Run: bash scripts/build.sh && node dist/bench/upload-memory.js [runs]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { APPS, debianPython, startBerth } from '../test/helpers/berth.js';
import { startNginx } from '../test/helpers/nginx.js';

const MiB = 1024 * 1024;
const RUNS = Number(process.argv[2] ?? 10);

function rssKb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** POSTs `total` bytes in 1 MiB chunks made on the fly; resolves with the status. */
function upload(url: string, total: number): Promise<number> {
  const seed = randomBytes(MiB);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(MiB, total - sent);
        sent += n;
        if (!req.write(seed.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

const growth: number[] = [];
for (let r = 1; r <= RUNS; r++) {
  const b = await startBerth(['--socket', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--threads', '2', '--processes', '1', '--python', debianPython()]);
  const n = await startNginx(`server { client_max_body_size 75M; location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${b.port}; } }`);
  try {
    const pid = b.proc.pid!;
    await fetch(n.url('/body'), { method: 'POST', body: 'warm-up' });
    const baseline = rssKb(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(pid))), 20);
    const status = await upload(n.url('/body-sha256'), 75e6);
    clearInterval(sampler);
    growth.push((peak - baseline) / 1024);
    console.log(`run ${r}: status ${status}, baseline ${(baseline / 1024).toFixed(1)} MiB, growth ${growth.at(-1)!.toFixed(1)} MiB`);
  } finally {
    await n.stop();
    await b.stop();
  }
}
const sorted = [...growth].sort((a, b) => a - b);
console.log(`growth MiB, sorted: ${sorted.map((g) => g.toFixed(1)).join(' ')} (median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)})`);
