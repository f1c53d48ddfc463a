/**
 * Golden ini files: test/fixtures/ini/NAME.ini is loaded with `--ini` and its formatted
 * problems, then warnings ("warning: …"), must equal NAME.expected.txt line for line (empty =
 * loads cleanly). The fixture directory is written as <dir> so the files work anywhere.
 * After a deliberate change in wording, regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { formatProblem, loadConfig } from '../../src/config/load.js';

const dir = path.join(process.cwd(), 'test', 'fixtures', 'ini');
const env = { FIXTURE_GREETING: 'hello' };

function render(file: string): string {
  const r = loadConfig({ argv: ['--ini', file], env, cwd: dir });
  const lines = [...(r.ok ? [] : r.problems.map(formatProblem)), ...r.warnings.map((w) => `warning: ${formatProblem(w)}`)];
  return lines.map((l) => l.split(dir).join('<dir>')).join('\n') + (lines.length > 0 ? '\n' : '');
}

const cases = fs.readdirSync(dir).filter((f) => f.endsWith('.expected.txt')).sort();

test('there are golden fixtures', () => {
  assert.ok(cases.length >= 8, `found ${cases.length} in ${dir}`);
});

for (const expectedName of cases) {
  const name = expectedName.replace(/\.expected\.txt$/, '');
  test(`golden: ${name}.ini`, () => {
    const got = render(path.join(dir, `${name}.ini`));
    const expectedPath = path.join(dir, expectedName);
    if (process.env['UPDATE_GOLDEN'] === '1') fs.writeFileSync(expectedPath, got);
    assert.equal(got, fs.readFileSync(expectedPath, 'utf8'), `${name}.ini: output differs from ${expectedName} (UPDATE_GOLDEN=1 rewrites it)`);
  });
}
