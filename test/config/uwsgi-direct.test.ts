// uwsgi-direct in the configuration: on by default for uwsgi sockets, off when the master must
// or should route their requests (static files), and an explicit "true" that cannot work
// (check-static) is refused with the option, the line and the fix.
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem, loadConfig } from '../../src/config/load.js';
import { ok, problems } from './results.js';
import { makeTree } from './tmp-dir.js';

test('uwsgi-direct is on by default, and can be turned off', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  assert.equal(ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a'], env: {}, cwd: tree.dir })).uwsgiDirect, true);
  assert.equal(ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a', '--uwsgi-direct=false'], env: {}, cwd: tree.dir })).uwsgiDirect, false);
});

test('static files keep the uwsgi sockets with the master unless uwsgi-direct is asked for, which static-map allows and check-static does not', (t) => {
  const tree = makeTree({ 'static/': '' });
  t.after(tree.remove);
  const load = (extra: string[]) => ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a', ...extra], env: {}, cwd: tree.dir }));
  for (const [extra, why] of [[['--static-map', '/static=static'], 'static-map'], [['--static-map2', '/static=static'], 'static-map2'], [['--static-from-django'], 'static-from-django']] as const) {
    const c = load([...extra]);
    assert.equal(c.uwsgiDirect, false, extra.join(' '));
    assert.equal(c.uwsgiViaMasterFor, why, 'the start-up log says why, and how to choose otherwise');
    const asked = load([...extra, '--uwsgi-direct']);
    assert.equal(asked.uwsgiDirect, true, `${extra.join(' ')} --uwsgi-direct: the workers relay the static paths`);
    assert.equal(asked.uwsgiViaMasterFor, null);
  }
  const checked = load(['--check-static', 'static']);
  assert.equal(checked.uwsgiDirect, false);
  assert.equal(checked.uwsgiViaMasterFor, null, 'check-static: there is no choice to point at');
  assert.equal(load(['--static-map', '/static=static', '--uwsgi-direct=false']).uwsgiViaMasterFor, null, 'chosen: nothing to say');
  assert.equal(load([]).uwsgiViaMasterFor, null);
});

test('uwsgi-direct = true with check-static is refused, naming both, the line and the fix', (t) => {
  const tree = makeTree({ 'static/': '', 'site.ini': '[uwsgi]\nsocket = :0\nmodule = a\ncheck-static = static\nuwsgi-direct = true\n' });
  t.after(tree.remove);
  const p = problems(loadConfig({ argv: ['site.ini'], env: {}, cwd: tree.dir }));
  assert.equal(p.length, 1, p.join('\n'));
  assert.match(p[0]!, /uwsgi-direct = true sends uwsgi requests straight to the workers, past check-static/);
  assert.match(p[0]!, /line 5 of .*site\.ini/);
  assert.match(p[0]!, /remove uwsgi-direct, or use static-map = \/static=DIR/);
});

test('uwsgi-allow keeps the sockets with the master by default (its peers would all be relayed)', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  assert.equal(ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a', '--uwsgi-allow', '10.0.0.0/8'], env: {}, cwd: tree.dir })).uwsgiDirect, false);
  assert.equal(ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a', '--uwsgi-allow', '10.0.0.0/8', '--uwsgi-direct'], env: {}, cwd: tree.dir })).uwsgiDirect, true);
});

test('uwsgi-allow naming only loopback (to trust it on http ports) leaves the sockets with the workers', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  assert.equal(ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a', '--uwsgi-allow', '127.0.0.1/32', '--uwsgi-allow', '::1'], env: {}, cwd: tree.dir })).uwsgiDirect, true);
  assert.equal(ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a', '--uwsgi-allow', '127.0.0.1/32', '--uwsgi-allow', '0.0.0.0/0'], env: {}, cwd: tree.dir })).uwsgiDirect, false);
  assert.equal(ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a', '--uwsgi-allow', '120.0.0.0/4'], env: {}, cwd: tree.dir })).uwsgiDirect, false);
});


test('uwsgi-direct-batch is on by default; set where no worker accepts on a uwsgi socket, it warns with the line', (t) => {
  const tree = makeTree({
    'no-socket.ini': '[uwsgi]\nhttp = :0\nmodule = a\nuwsgi-direct-batch = true\n',
    'via-master.ini': '[uwsgi]\nsocket = :0\nmodule = a\nuwsgi-direct = false\nuwsgi-direct-batch = false\n',
  });
  t.after(tree.remove);
  assert.equal(ok(loadConfig({ argv: ['--socket', ':0', '-w', 'a'], env: {}, cwd: tree.dir })).uwsgiDirectBatch, true);
  const off = loadConfig({ argv: ['--socket', ':0', '-w', 'a', '--uwsgi-direct-batch=false'], env: {}, cwd: tree.dir });
  assert.equal(ok(off).uwsgiDirectBatch, false);
  assert.deepEqual(off.warnings, [], 'no warning where it applies');
  for (const [file, why] of [['no-socket.ini', /there is no socket = …/], ['via-master.ini', /uwsgi-direct is off/]] as const) {
    const r = loadConfig({ argv: [file], env: {}, cwd: tree.dir });
    ok(r);
    assert.deepEqual(r.warnings.map((w) => w.code), ['no-effect'], file);
    const text = formatProblem(r.warnings[0]!);
    assert.match(text, why);
    assert.match(text, new RegExp(`line ${file === 'no-socket.ini' ? 4 : 5} of .*${file}`));
    assert.match(text, /remove uwsgi-direct-batch/);
  }
});
