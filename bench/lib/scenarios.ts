// Scenarios: which app, which URL, how many wrk connections. The django
// scenario needs a migrated SQLite file; it is made once per bench run in a
// temp dir and shared (read-only use) by every server.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Scenario {
  name: string;
  /** Relative to the repo root. */
  appDir: string;
  module: string;
  path: string;
  connections: number;
  /** Measure fast clients with and without SLOW_CLIENTS slow ones. */
  slowClients: boolean;
  /** Only run when named in --only (the static-file scenarios). */
  optIn?: boolean;
  /** Makes what the app needs; returns extra server environment and a temp dir to remove. */
  prepare?(root: string, python: string): Prepared;
}

export interface Prepared {
  env: NodeJS.ProcessEnv;
  tempDir: string;
}

export const SLOW_CLIENTS = 256;
export const SLOW_REQUEST_MS = 2000;

function prepareDjango(root: string, python: string): Prepared {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-django-'));
  const env = {
    DJSITE_DB: join(dir, 'db.sqlite3'),
    DJSITE_STATIC_ROOT: join(dir, 'static'),
    DJSITE_MEDIA_ROOT: join(dir, 'media'),
  };
  const script = join(root, 'test/fixtures/apps/djsite/prepare.py');
  const res = spawnSync(python, [script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  if (res.status !== 0) {
    throw new Error(`django prepare failed (${res.status ?? res.signal}): ${(res.stderr || res.error?.message || '').slice(-800)}`);
  }
  return { env, tempDir: dir };
}

function prepareStatic(): Prepared {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-static-'));
  // nginx's workers (nobody) must read the files.
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, '10k.bin'), randomBytes(10 * 1024), { mode: 0o644 });
  writeFileSync(join(dir, '1m.bin'), randomBytes(1024 * 1024), { mode: 0o644 });
  return { env: { BENCH_STATIC_DIR: dir }, tempDir: dir };
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'hello', appDir: 'test/fixtures/apps', module: 'hello', path: '/', connections: 64, slowClients: false },
  {
    name: 'django', appDir: 'test/fixtures/apps/djsite', module: 'djsite.wsgi', path: '/',
    connections: 16, slowClients: false, prepare: prepareDjango,
  },
  { name: 'slow-clients', appDir: 'test/fixtures/apps', module: 'hello', path: '/', connections: 64, slowClients: true },
  { name: 'static-10k', appDir: 'test/fixtures/apps', module: 'hello', path: '/static/10k.bin', connections: 64, slowClients: false, prepare: prepareStatic, optIn: true },
  { name: 'static-1m', appDir: 'test/fixtures/apps', module: 'hello', path: '/static/1m.bin', connections: 16, slowClients: false, prepare: prepareStatic, optIn: true },
];
