/** log-maxsize with a real Berth: the log rotates at the configured size and keeps log-backups backups. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth } from '../helpers/berth.js';
import { get, makeOpsSite, waitUntil } from '../master/ops-helpers.js';

test('a real Berth rotates its log at log-maxsize into numbered backups, keeping log-backups of them', async (t) => {
  const site = makeOpsSite();
  t.after(site.remove);
  const log = join(site.dir, 'site.log');
  site.writeIni([`logto = ${log}`, 'log-maxsize = 4k', `log-backupname = ${join(site.dir, 'old.log')}`, 'log-backups = 2']);
  const berth = await startBerth(['--ini', site.ini], { logFile: log });
  t.after(() => berth.stop());
  for (let i = 0; i < 120; i++) await get(berth.url(`/request-number-${i}`));
  await waitUntil(() => readFileSync(log, 'utf8').includes('/request-number-119'), 'the last request is logged');
  const backups = readdirSync(site.dir).filter((f) => f.startsWith('old.log.')).sort();
  assert.deepEqual(backups, ['old.log.1', 'old.log.2'], 'exactly log-backups numbered backups');
  for (const f of [log, ...backups.map((b) => join(site.dir, b))]) assert.ok(statSync(f).size <= 4096, `${f} is within log-maxsize`);
  const newest = readFileSync(join(site.dir, 'old.log.1'), 'utf8') + readFileSync(log, 'utf8');
  const numbers = [...newest.matchAll(/request-number-(\d+)/g)].map((m) => Number(m[1]));
  for (let i = 1; i < numbers.length; i++) assert.equal(numbers[i], numbers[i - 1]! + 1, 'no line lost between the newest backup and the current file');
});
