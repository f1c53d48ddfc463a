/**
 * stats-http and metrics: the JSON at / with Content-Type application/json exactly, /metrics
 * accepted by promtool and by prometheus_client's parser with the values of the traffic sent,
 * the in-flight redaction (Cookie, Authorization, stats-redact), minified output, the recent
 * errors with their Python traceback, and the dashboard hook.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { readStatsDocument, readStatsText } from '../../src/stats/stats-client.js';

const APP = join(APPS, 'stats_app.py');
const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) await b.stop();
});

async function berth(extra: readonly string[]): Promise<{ b: RunningBerth; stats: string }> {
  // These tests read exact totals right after the answers: on the master path a request is
  // counted before its response ends; the direct path's records follow it within ~20 ms
  // (docs/architecture.md), so they run with http-direct off (its stats: test/master/http-direct.test.ts).
  const b = await startBerth(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2', '--threads', '2', '--stats', '127.0.0.1:0', '--http-direct=false', ...extra]);
  running.push(b);
  const stats = /stats \S.*? on (127\.0\.0\.1:\d+)/.exec(b.logs())?.[1];
  assert.ok(stats !== undefined, `no stats address in the log:\n${b.logs()}`);
  return { b, stats };
}

function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('stats-http: / is the JSON document (application/json exactly), /metrics passes promtool and prometheus_client with the traffic sent, /dashboard serves the page and its data', async () => {
  const { b, stats } = await berth(['--stats-http']);
  for (let i = 0; i < 6; i++) assert.equal((await httpGet(b.url('/'))).status, 200);
  for (let i = 0; i < 2; i++) assert.equal((await httpGet(b.url('/nope'), {})).status, 200);
  await httpGet(b.url('/'), {}).then((r) => assert.equal(r.status, 200));
  const json = await httpGet(`http://${stats}/`);
  assert.equal(json.status, 200);
  assert.equal(json.type, 'application/json');
  const doc = JSON.parse(json.body) as { berth: { requests: number } };
  assert.equal(doc.berth.requests, 9);
  assert.equal((await readStatsDocument(stats, { timeoutMs: 5000 }))['pid'], b.proc.pid, 'readStatsDocument finds out the address speaks HTTP');

  const metrics = await httpGet(`http://${stats}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
  execFileSync('promtool', ['check', 'metrics'], { input: metrics.body }); // throws on a format error
  const parsed = execFileSync(debianPython(), ['-c', `
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out[s.name + json.dumps(s.labels, sort_keys=True)] = s.value
print(json.dumps(out))
`], { input: metrics.body, encoding: 'utf8' });
  const samples = JSON.parse(parsed) as Record<string, number>;
  assert.equal(samples['berth_requests_total{"class": "2xx"}'], 9);
  assert.equal(samples['berth_requests_by_method_total{"method": "GET"}'], 9);
  assert.equal(samples['berth_request_duration_seconds_count{}'], 9);
  assert.equal(samples['berth_request_duration_seconds_bucket{"le": "+Inf"}'], 9);
  assert.equal(samples['berth_generation{}'], 1);
  assert.equal(samples['berth_workers{"state": "READY"}'], 2);
  assert.equal(samples['berth_sent_bytes_total{}'], 9 * 'Hello, World!'.length);
  assert.ok((samples['berth_worker_rss_bytes{"worker": "1"}'] ?? 0) > 1_000_000, 'RSS comes from /proc, not 0 as in uWSGI without memory-report');
  for (const cause of ['crash', 'harakiri', 'max-requests', 'rss', 'lifetime', 'reload']) {
    assert.equal(samples[`berth_worker_respawns_total{"cause": "${cause}"}`], 0, cause);
  }

  const dash = await httpGet(`http://${stats}/dashboard`);
  assert.equal(dash.status, 200, 'the dashboard page');
  assert.match(dash.body, /<html/i);
  const data = await httpGet(`http://${stats}/dashboard/data`);
  assert.equal(data.status, 200);
  const dashDoc = JSON.parse(data.body) as { workers: unknown[]; berth: { generation: number } };
  assert.equal(dashDoc.workers.length, 2, 'the dashboard reads the same document as /');
  assert.equal(dashDoc.berth.generation, 1);
});

test('an in-flight request with Cookie, Authorization and a stats-redact header: the document shows none of their values, and escapes what it shows', async () => {
  const { b, stats } = await berth(['--stats-redact', 'X-Api-Key']);
  const held = httpGet(b.url('/sleep?s=2'), {
    Cookie: 'sessionid=cookie-secret-123',
    Authorization: 'Bearer auth-secret-456',
    'X-Api-Key': 'apikey-secret-789',
    'X-Note': 'say "hi" \\ there',
  });
  let text = '';
  for (let tries = 0; tries < 100 && !text.includes('REQUEST_URI=/sleep'); tries++) {
    text = await readStatsText(stats, { timeoutMs: 5000 });
    if (!text.includes('REQUEST_URI=/sleep')) await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(text, /REQUEST_URI=\/sleep/, 'the in-flight request is in the document');
  for (const secret of ['cookie-secret-123', 'auth-secret-456', 'apikey-secret-789']) assert.ok(!text.includes(secret), `${secret} leaked`);
  const doc = JSON.parse(text) as { workers: { cores: { in_request: number; vars: string[] }[] }[] };
  const vars = doc.workers.flatMap((w) => w.cores).find((c) => c.in_request === 1)?.vars ?? [];
  assert.ok(vars.includes('HTTP_COOKIE=********') && vars.includes('HTTP_AUTHORIZATION=********') && vars.includes('HTTP_X_API_KEY=********'), vars.join('\n'));
  assert.ok(vars.includes('HTTP_X_NOTE=say "hi" \\ there'), 'quotes and backslashes survive the JSON round trip');
  assert.equal((await held).status, 200);
});

test('stats-minified writes one line; a 500 is in recent_errors with the Python traceback; secrets in the config are masked', async () => {
  const { b, stats } = await berth(['--stats-minified', '--env', 'DB_PASSWORD=hunter2']);
  assert.equal((await httpGet(b.url('/boom'))).status, 500);
  let doc: { berth: { recent_errors: { status: number; uri: string; worker: number; traceback: string }[]; config: Record<string, unknown> } } | null = null;
  for (let tries = 0; tries < 100; tries++) {
    const text = await readStatsText(stats, { timeoutMs: 5000 });
    assert.equal(text.trim().split('\n').length, 1, 'one line');
    doc = JSON.parse(text) as typeof doc;
    if (doc!.berth.recent_errors[0]?.traceback.includes('kaboom') === true) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const error = doc!.berth.recent_errors[0]!;
  assert.equal(error.status, 500);
  assert.equal(error.uri, '/boom');
  assert.ok(error.worker >= 1);
  assert.match(error.traceback, /^Traceback \(most recent call last\):[\s\S]*ValueError: kaboom from the stats test/);
  assert.deepEqual(doc!.berth.config['env'], ['DB_PASSWORD=********']);
  assert.ok(!JSON.stringify(doc).includes('hunter2'));
});

test('stats on a unix socket (plain) and metrics on their own address: both answer; /metrics there, / is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stats-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'stats.sock');
  const b = await startBerth(['--http-socket', '127.0.0.1:0', '--wsgi-file', APP, '--stats', sock, '--metrics', '127.0.0.1:0', '--stats-no-cores', '--http-direct=false']);
  running.push(b);
  assert.equal((await httpGet(b.url('/'))).status, 200);
  const doc = await readStatsDocument(sock, { timeoutMs: 5000 });
  const worker = (doc['workers'] as Record<string, unknown>[])[0]!;
  assert.equal(worker['requests'], 1);
  assert.ok(!('cores' in worker), 'stats-no-cores');
  const metricsAt = /Prometheus metrics on http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(b.logs())?.[1];
  assert.ok(metricsAt !== undefined, b.logs());
  assert.match((await httpGet(`http://${metricsAt}/metrics`)).body, /^berth_requests_total\{class="2xx"\} 1$/m);
  assert.equal((await httpGet(`http://${metricsAt}/`)).status, 404);
  await b.stop();
  assert.ok(!existsSync(sock), 'the stats socket is removed when Berth stops');
});

test('a reload (SIGHUP) moves the generation, the reload count and the respawns by cause "reload"', async () => {
  const { b, stats } = await berth([]);
  b.proc.kill('SIGHUP');
  await b.waitForLog(/reload done in \d+ ms: generation 2/, 30_000);
  const doc = await readStatsDocument(stats, { timeoutMs: 5000 });
  const berthFacts = doc['berth'] as { generation: number; reloads: number; respawns: Record<string, number> };
  assert.equal(berthFacts.generation, 2);
  assert.equal(berthFacts.reloads, 1);
  assert.equal(berthFacts.respawns['reload'], 2);
  assert.deepEqual((doc['workers'] as { respawn_count: number }[]).map((w) => w.respawn_count), [2, 2]);
});
