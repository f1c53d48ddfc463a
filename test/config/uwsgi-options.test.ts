/**
 * Every uWSGI 2.0 option name in the stored list (src/config/uwsgi-options/) gets exactly its
 * classification when written in an ini file and on the command line: supported and accepted
 * ones are read, planned and refused ones are refused with their reason — never "unknown option".
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type LoadResult, type Problem } from '../../src/config/load.js';
import type { OptionSpec } from '../../src/config/option-spec.js';
import { OPTIONS, findOption } from '../../src/config/options.js';
import { ruleFor } from '../../src/config/options-uwsgi.js';
import { UWSGI_OPTIONS } from '../../src/config/uwsgi-options/index.js';
import { makeTree } from './tmp-dir.js';

/** A value of the option's own type, so a supported option is refused for nothing but its value's meaning. */
const SAMPLE: Readonly<Record<OptionSpec['type'], string>> = {
  string: 'x', path: '/nonexistent-berth-test', int: '4', bool: 'true', size: '4096', seconds: '4', address: '127.0.0.1:0', 'tls-address': '127.0.0.1:0,/nonexistent-berth-test.crt,/nonexistent-berth-test.key', 'tls-keyval': 'addr=127.0.0.1:0,cert=/nonexistent-berth-test.crt,key=/nonexistent-berth-test.key', 'key=value': 'a=b',
};

/** Accepted options whose value is checked: a value they accept. */
const VALID: Readonly<Record<string, string>> = { plugin: 'python3', plugins: 'python3,http', 'need-plugin': 'python3', 'need-plugins': 'http' };
const sample = (name: string, row: OptionSpec): string => VALID[name] ?? SAMPLE[row.type];

const REFUSING: Readonly<Record<string, string>> = { planned: 'not-supported-yet', refused: 'not-supported' };

/** The problems naming this option as written, by code. */
function codesFor(result: LoadResult, written: string): string[] {
  const problems: Problem[] = result.ok ? [] : result.problems;
  return problems.filter((p) => p.option === written).map((p) => p.code);
}

function expectClassified(name: string, result: LoadResult, written: string): void {
  const row = findOption(name);
  assert.ok(row !== undefined, `${name}: no row in the option table`);
  const codes = codesFor(result, written);
  assert.ok(!codes.includes('unknown-option'), `${written}: reported as an unknown option`);
  const refusing = REFUSING[row.status];
  if (refusing !== undefined) {
    assert.deepEqual(codes, [refusing], `${written}: ${row.status} must be refused with its reason, got ${codes.join(', ') || 'nothing'}`);
    const problem = (result.ok ? [] : result.problems).find((p) => p.option === written);
    assert.equal(problem?.fix, row.reason, `${written}: the fix is the row's reason`);
  } else if (row.status === 'accepted') {
    assert.deepEqual(codes, [], `${written}: accepted must load without a problem, got ${codes.join(', ')}`);
  } else {
    assert.ok(!codes.some((c) => c.startsWith('not-supported')), `${written}: supported but refused`);
  }
}

test('the stored list is uWSGI 2.0 core + python + http + plugins, with the options the issue names', () => {
  const names = new Set(UWSGI_OPTIONS.map((o) => o[0]));
  assert.ok(UWSGI_OPTIONS.length > 1000, `${UWSGI_OPTIONS.length} options`);
  assert.equal(names.size, UWSGI_OPTIONS.length, 'each name once');
  for (const n of ['uwsgi-socket', 'log-truncate', 'python-version', 'emperor', 'attach-daemon', 'http-keepalive', 'cheaper-busyness-max', 'fastrouter', 'route-uri']) {
    assert.ok(names.has(n), n);
  }
  // Each stored option either has a hand-written row or a compat rule decides it.
  const handWritten = new Set(OPTIONS.filter((o) => o.plugin === undefined || o.role === 'command').flatMap((o) => [o.name, ...o.aliases]));
  for (const o of UWSGI_OPTIONS) assert.ok(handWritten.has(o[0]) || ruleFor(o) !== undefined, o[0]);
});

test('every uWSGI option in an ini file gets its classification, never "unknown option"', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const ini = path.join(tree.dir, 'one.ini');
  for (const [name, argument] of UWSGI_OPTIONS) {
    const row = findOption(name);
    assert.ok(row !== undefined, `${name}: no row in the option table`);
    const value = argument === 'flag' ? 'true' : sample(name, row);
    fs.writeFileSync(ini, `[uwsgi]\nhttp = 127.0.0.1:0\nmodule = app\n${name} = ${value}\n`);
    expectClassified(name, loadConfig({ argv: ['--ini', ini], env: {}, cwd: tree.dir }), name);
  }
});

test('every uWSGI option on the command line gets its classification, never "unknown option"', () => {
  for (const [name, argument] of UWSGI_OPTIONS) {
    const row = findOption(name) as OptionSpec;
    const flag = argument === 'flag' || row.type === 'bool' || row.optionalValue === true;
    const argv = ['--http', '127.0.0.1:0', '--module', 'app', ...(flag ? [`--${name}`] : [`--${name}`, sample(name, row)])];
    expectClassified(name, loadConfig({ argv, env: {}, cwd: '/' }), `--${name}`);
  }
});

test('the options the seed deployments met are classified sensibly', () => {
  const expect: Record<string, OptionSpec['status']> = {
    'uwsgi-socket': 'supported', emperor: 'supported', 'emperor-tyrant': 'refused', 'vassal-set': 'refused', 'attach-daemon': 'supported', 'smart-attach-daemon2': 'planned', 'log-truncate': 'planned',
    'python-version': 'supported', plugins: 'accepted', spooler: 'refused', cache2: 'refused', fastrouter: 'refused',
  };
  for (const [name, status] of Object.entries(expect)) assert.equal(findOption(name)?.status, status, name);
  assert.match(findOption('emperor-tyrant')?.reason ?? '', /set uid and gid in each vassal ini/);
  assert.match(findOption('smart-attach-daemon2')?.reason ?? '', /supervis/);
  assert.match(findOption('attach-daemon')?.help ?? '', /docs\/supervision\.md/);
});

test('rows that are not supported always carry a reason, and refused ones name an alternative', () => {
  for (const o of OPTIONS.filter((x) => x.status !== 'supported')) {
    assert.ok((o.reason ?? '').length > 15, `${o.name}: reason`);
  }
});
