import test from 'node:test';
import assert from 'node:assert/strict';
import { SettingResolver } from '../../src/config/ini/resolve.js';
import { formatProblem } from '../../src/config/problem.js';
import type { Setting } from '../../src/config/setting.js';

/** A resolver over an in-memory file system. */
function resolver(files: Record<string, string>, env: Record<string, string> = {}): SettingResolver {
  return new SettingResolver({
    cwd: '/work',
    env,
    readFile: (f) => {
      const text = files[f];
      if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return text;
    },
    isFile: (f) => f in files,
  });
}

const ini = (spec: string): Setting => ({ name: 'ini', written: '--ini', value: spec, source: { kind: 'argv' } });
const pairs = (s: readonly Setting[]) => s.map((x) => `${x.name}=${x.value}`);

test('[uwsgi] then [berth]; other sections are skipped', () => {
  const r = resolver({ '/work/a.ini': '[berth]\nprocesses = 8\n[uwsgi]\nprocesses = 2\nhttp = :1\n[dev]\nprocesses = 99\n' });
  const out = r.resolve([ini('a.ini')]);
  assert.deepEqual(pairs(out), ['processes=2', 'http=:1', 'processes=8']);
  assert.deepEqual(r.problems, []);
});

test('file:section reads that section only, and a missing section is a problem', () => {
  const r = resolver({ '/work/a.ini': '[uwsgi]\nprocesses = 2\n[dev]\nprocesses = 3\n' });
  assert.deepEqual(pairs(r.resolve([ini('a.ini:dev')])), ['processes=3']);
  r.resolve([ini('a.ini:prod')]);
  assert.equal(r.problems.length, 1);
  assert.equal(formatProblem(r.problems[0]!), 'section [prod] not found in /work/a.ini (command line) — it has [uwsgi], [dev]; name one of those after the \':\'');
});

test('values carry file and line', () => {
  const r = resolver({ '/work/a.ini': '[uwsgi]\n\nhttp = :1\n' });
  const [s] = r.resolve([ini('a.ini')]);
  assert.deepEqual(s?.source, { kind: 'ini', file: '/work/a.ini', line: 3 });
});

test('includes are relative to the including file and expanded in place', () => {
  const r = resolver({
    '/work/conf/main.ini': '[uwsgi]\nprocesses = 1\nini = common/base.ini\nthreads = 9\n',
    '/work/conf/common/base.ini': '[uwsgi]\nthreads = 2\nchdir = %d\n',
  });
  assert.deepEqual(pairs(r.resolve([ini('conf/main.ini')])), ['processes=1', 'threads=2', 'chdir=/work/conf/common/', 'threads=9']);
  assert.deepEqual(r.problems, []);
});

test('include cycles are refused, naming the chain', () => {
  const r = resolver({ '/work/a.ini': '[uwsgi]\nini = b.ini\n', '/work/b.ini': '[uwsgi]\nini = a.ini\n' });
  r.resolve([ini('a.ini')]);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]?.code, 'ini-cycle');
  assert.equal(formatProblem(r.problems[0]!), 'ini files include each other: /work/a.ini → /work/b.ini → /work/a.ini (line 2 of /work/b.ini) — remove one of the ini = … lines that close the loop');
});

test('the same file may be included twice when it is not a cycle', () => {
  const r = resolver({ '/work/a.ini': '[uwsgi]\nini = c.ini\nini = c.ini\n', '/work/c.ini': '[uwsgi]\nthreads = 2\n' });
  assert.deepEqual(pairs(r.resolve([ini('a.ini')])), ['threads=2', 'threads=2']);
  assert.deepEqual(r.problems, []);
});

test('missing files are problems at the place that named them', () => {
  const r = resolver({ '/work/a.ini': '[uwsgi]\nini = gone.ini\n' });
  r.resolve([ini('nothere.ini'), ini('a.ini')]);
  assert.deepEqual(r.problems.map((p) => [p.code, p.where ?? `${p.file}:${p.line}`]), [['ini-not-found', 'command line'], ['ini-not-found', '/work/a.ini:2']]);
  assert.match(r.problems[1]!.message, /\/work\/gone\.ini not found/);
});

test('placeholders: set-placeholder, set-ph, earlier options, from the command line too', () => {
  const r = resolver({ '/work/a.ini': '[uwsgi]\nset-ph = root=/srv\nchdir = %(root)/site\npythonpath = %(chdir)/lib\nlogto = %(top)/log\n' });
  const out = r.resolve([{ name: 'set-placeholder', written: '--set-placeholder', value: 'top=/var', source: { kind: 'argv' } }, ini('a.ini')]);
  assert.deepEqual(pairs(out), ['chdir=/srv/site', 'pythonpath=/srv/site/lib', 'logto=/var/log']);
  assert.deepEqual(r.problems, []);
});

test('undefined placeholders and env vars are problems with file:line, and the entry is dropped', () => {
  const r = resolver({ '/work/a.ini': '[uwsgi]\nchdir = %(nope)\nhome = $(VENV)\nlogto = $(LOGS)/x\n' }, { LOGS: '/l' });
  assert.deepEqual(pairs(r.resolve([ini('a.ini')])), ['logto=/l/x']);
  assert.deepEqual(r.problems.map((p) => `${p.line}: ${p.message}`), ['2: placeholder %(nope) is not defined', '3: environment variable $(VENV) is not set']);
});

test('one inline-comment warning per file, naming the first line', () => {
  const r = resolver({
    '/work/a.ini': '[uwsgi]\nhttp = :1 # one\nchdir = /x # two\nini = b.ini\n',
    '/work/b.ini': '[uwsgi]\nthreads = 2 # three\n',
  });
  r.resolve([ini('a.ini')]);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.file, w.line]), [['inline-comment', '/work/a.ini', 2], ['inline-comment', '/work/b.ini', 2]]);
  assert.match(r.warnings[0]!.message, /here and on 1 more line\)/);
});

test('a file without [uwsgi] or [berth], and keys outside any section, are problems', () => {
  const r = resolver({ '/work/a.ini': 'processes = 4\n[app]\nhttp = :1\n' });
  assert.deepEqual(r.resolve([ini('a.ini')]), []);
  assert.deepEqual(r.problems.map((p) => p.code), ['outside-section', 'ini-no-section']);
});
