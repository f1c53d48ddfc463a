/** Unwrapping a LoadResult in tests: the config (failing with the problems if there are any), or the problems as printed. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem, loadConfig, type LoadResult } from '../../src/config/load.js';
import type { Problem } from '../../src/config/problem.js';
import type { Config } from '../../src/config/schema.js';

export function ok(r: LoadResult): Config {
  if (!r.ok) assert.fail(`expected a config, got:\n${r.problems.map(formatProblem).join('\n')}`);
  return r.config;
}

export function problems(r: LoadResult): string[] {
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : r.problems.map(formatProblem);
}

/** The one problem of a result that must have exactly one. */
export function onlyProblem(r: LoadResult): Problem {
  assert.equal(r.ok, false, 'expected a problem');
  const list = r.ok ? [] : r.problems;
  assert.equal(list.length, 1, JSON.stringify(list));
  return list[0]!;
}

/** Loads `lines` as site.ini's [uwsgi] section (after module = app) from `dir`. */
export function fromSiteIni(dir: string, lines: readonly string[]): LoadResult {
  writeFileSync(join(dir, 'site.ini'), ['[uwsgi]', 'module = app', ...lines, ''].join('\n'));
  return loadConfig({ argv: ['--ini', 'site.ini'], env: {}, cwd: dir });
}
