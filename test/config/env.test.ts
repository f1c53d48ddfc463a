import test from 'node:test';
import assert from 'node:assert/strict';
import { readEnv } from '../../src/config/env.js';
import { formatProblem } from '../../src/config/problem.js';

test('BERTH_<OPTION> maps upper case and _ back to option names', () => {
  const r = readEnv({ BERTH_PROCESSES: '4', BERTH_HTTP: ':8000', BERTH_BUFFER_SIZE: '64k', BERTH_WSGI_FILE: 'app.py', BERTH_WORKERS: '2', PATH: '/bin' });
  assert.deepEqual(r.settings.map((s) => [s.name, s.value, s.written]), [
    ['buffer-size', '64k', 'BERTH_BUFFER_SIZE'], ['http', ':8000', 'BERTH_HTTP'], ['processes', '4', 'BERTH_PROCESSES'],
    ['workers', '2', 'BERTH_WORKERS'], ['wsgi-file', 'app.py', 'BERTH_WSGI_FILE'],
  ]);
  assert.deepEqual(r.settings[0]?.source, { kind: 'env', envName: 'BERTH_BUFFER_SIZE' });
  assert.deepEqual(r.warnings, []);
});

test('near-miss names warn with did-you-mean; internal and unrelated names are ignored', () => {
  const r = readEnv({ BERTH_PROCESS: '4', BERTH_WORKER_ID: '3', BERTH_WORKER_FD: '3', BERTH_SOMETHING_ELSE_ENTIRELY: '1', BERTH_MODULE: '' });
  assert.deepEqual(r.settings, []);
  assert.deepEqual(r.warnings.map(formatProblem), ['BERTH_PROCESS is not a Berth option and is ignored (environment variable BERTH_PROCESS) — did you mean BERTH_PROCESSES?']);
});
