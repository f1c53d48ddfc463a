/**
 * The worker config contract (test/fixtures/conformance/worker-config.json) against the
 * TypeScript rules (src/protocol/worker/worker-config.ts), and what spawn.ts really sends:
 * workerConfigJson's output for real configs must pass the same rules read_config enforces
 * (test/python/test_conformance.py runs the table against read_config).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, formatProblem } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { workerConfigJson, type DirectSockets } from '../../../src/master/spawn.js';
import { DIRECT_CONFIG_KEYS, HTTP_DIRECT_CONFIG_KEYS, WORKER_CONFIG_KEYS, WORKER_MODES, workerConfigProblems } from '../../../src/protocol/worker/worker-config.js';
import { readTable } from '../../helpers/conformance.js';

interface KeySpec {
  readonly rule: string;
  readonly values?: readonly string[];
  readonly why: string;
}

interface ConfigTable {
  readonly keys: Readonly<Record<string, KeySpec>>;
  readonly direct_keys: Readonly<Record<string, KeySpec>>;
  readonly http_direct_keys: Readonly<Record<string, KeySpec>>;
  readonly valid: readonly { readonly name: string; readonly why: string; readonly config: unknown }[];
  readonly invalid: readonly { readonly name: string; readonly why: string; readonly key: string; readonly config: unknown }[];
}

const table = readTable<ConfigTable>('worker-config.json');

function rulesOf(rules: Readonly<Record<string, { rule: string }>>): Record<string, string> {
  return Object.fromEntries(Object.entries(rules).map(([k, r]) => [k, r.rule]));
}

function names(problems: readonly string[], key: string): boolean {
  const word = new RegExp(`(^|[ .])${key}\\b`);
  return problems.some((p) => word.test(p));
}

test('worker config conformance: the TypeScript rules are the table\'s keys and rules', () => {
  assert.deepEqual(rulesOf(WORKER_CONFIG_KEYS), Object.fromEntries(Object.entries(table.keys).map(([k, s]) => [k, s.rule])));
  assert.deepEqual(rulesOf(DIRECT_CONFIG_KEYS), Object.fromEntries(Object.entries(table.direct_keys).map(([k, s]) => [k, s.rule])));
  assert.deepEqual(rulesOf(HTTP_DIRECT_CONFIG_KEYS), Object.fromEntries(Object.entries(table.http_direct_keys).map(([k, s]) => [k, s.rule])));
  assert.deepEqual([...WORKER_MODES], table.keys.mode!.values);
});

for (const c of table.valid) {
  test(`worker config conformance: accepts ${c.name} (${c.why})`, () => {
    assert.deepEqual(workerConfigProblems(c.config), []);
  });
}

for (const c of table.invalid) {
  test(`worker config conformance: refuses ${c.name} (${c.why})`, () => {
    const problems = workerConfigProblems(c.config);
    assert.ok(problems.length > 0, 'accepted');
    assert.ok(names(problems, c.key), `no problem names ${c.key}: ${problems.join('; ')}`);
  });
}

test('worker config conformance: every key has a valid and an invalid example', () => {
  for (const key of [...Object.keys(table.keys), ...Object.keys(table.direct_keys), ...Object.keys(table.http_direct_keys)]) {
    assert.ok(table.invalid.some((c) => c.key === key && !c.name.startsWith('missing-')), `no wrong value of ${key}`);
    assert.ok(table.invalid.some((c) => c.key === key && c.name.startsWith('missing-')), `no missing ${key}`);
  }
});

function configFrom(args: readonly string[]): Config {
  const r = loadConfig({ argv: ['--uwsgi-socket', '127.0.0.1:0', ...args], env: {}, cwd: process.cwd() });
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.config;
}

test('worker config conformance: what workerConfigJson sends passes the rules, for workers and the zygote', () => {
  const configs = [
    configFrom(['--module', 'app']),
    configFrom(['--wsgi-file', 'test/fixtures/apps/hello.py', '--chdir', process.cwd(), '--threads', '4', '--processes', '3', '--pythonpath', '/srv/lib']),
    configFrom(['--module', 'app', '--uid', 'www-data', '--gid', '33', '--umask', '022', '--py-autoreload', '2', '--static-from-django']),
    configFrom(['--module', 'app', '--static-map', `/static=${process.cwd()}`, '--mount', '/blog=app', '--manage-script-name', '--disable-logging', '--log-slow', '100', '--uwsgi-direct-batch']),
  ];
  for (const config of configs) {
    const direct: DirectSockets = {
      listeners: [{ fd: 7, unix: false, index: 0 }, { fd: 9, unix: true, index: 1 }],
      relayPath: '/run/berth/relay.sock',
      token: 'relay-token',
      config,
    };
    const sent = [
      workerConfigJson(config, { mode: 'worker', workerId: 1, check: false, channelPath: null, token: null }),
      workerConfigJson(config, { mode: 'worker', workerId: 2, check: true, channelPath: null, token: null, direct: null }),
      workerConfigJson(config, { mode: 'worker', workerId: 3, check: false, channelPath: null, token: null, direct }),
      workerConfigJson(config, { mode: 'zygote', workerId: 0, check: false, channelPath: '/run/berth/w.sock', token: 'hello', direct }),
    ];
    for (const json of sent) assert.deepEqual(workerConfigProblems(JSON.parse(json)), [], json);
  }
});
