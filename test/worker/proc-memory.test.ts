/**
 * Reading memory from /proc: the test process itself, and a real Python child that holds 50 MB
 * it has written to (so the pages are resident, not lazily mapped zeros).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { debianPython } from '../helpers/berth.js';
import { formatMegabytes, PAGE_SIZE_BYTES, readMemoryReport, readRssBytes } from '../../src/worker/proc-memory.js';

const MB = 1024 * 1024;

test('the page size is a power of two of at least 4 KiB', () => {
  assert.ok(PAGE_SIZE_BYTES >= 4096);
  assert.equal(PAGE_SIZE_BYTES & (PAGE_SIZE_BYTES - 1), 0);
});

test('RSS of the test process agrees with process.memoryUsage()', () => {
  const fromNode = process.memoryUsage().rss;
  const fromProc = readRssBytes(process.pid);
  assert.ok(fromProc !== null);
  assert.ok(Math.abs(fromProc - fromNode) < fromNode * 0.2, `statm says ${fromProc}, Node says ${fromNode}`);
});

test('memory report of the test process: 0 < USS ≤ PSS ≤ RSS', () => {
  const r = readMemoryReport(process.pid);
  assert.ok(r !== null);
  assert.ok(r.ussBytes > 0, JSON.stringify(r));
  assert.ok(r.ussBytes <= r.pssBytes && r.pssBytes <= r.rssBytes, JSON.stringify(r));
});

test('a Python child holding 50 MB: RSS and USS see it; once it exits both readers return null', async (t) => {
  const code = "b = bytearray(b'\\x01') * (50 << 20)\nprint('ready', flush=True)\nimport sys\nsys.stdin.read()";
  const child = spawn(debianPython(), ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.match(chunk.toString(), /ready/);
  const pid = child.pid!;
  const rss = readRssBytes(pid);
  const report = readMemoryReport(pid);
  assert.ok(rss !== null && report !== null);
  assert.ok(rss >= 50 * MB && rss < 200 * MB, `rss ${formatMegabytes(rss)}`);
  assert.ok(report.ussBytes >= 50 * MB, `uss ${formatMegabytes(report.ussBytes)}`);
  assert.ok(report.pssBytes >= report.ussBytes && report.rssBytes >= report.pssBytes, JSON.stringify(report));
  child.stdin!.end();
  await once(child, 'exit');
  assert.equal(readRssBytes(pid), null);
  assert.equal(readMemoryReport(pid), null);
});

test('formatMegabytes: whole MB from 10 up, one decimal below', () => {
  assert.equal(formatMegabytes(312 * MB), '312 MB');
  assert.equal(formatMegabytes(300 * MB + 100), '300 MB');
  assert.equal(formatMegabytes(1.5 * MB), '1.5 MB');
});
