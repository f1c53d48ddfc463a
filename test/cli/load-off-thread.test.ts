/**
 * The configuration loaded in a worker thread is the one the loader gives in this thread:
 * every field, every source location, every problem and warning (a structured clone must lose
 * nothing the master reads), and the emperor's configuration is recognised there too.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { load } from '../../src/cli/commands/load.js';
import { loadOffThread, reloadOffThread } from '../../src/cli/commands/load-off-thread.js';
import { makeTree } from '../config/tmp-dir.js';

const RICH_INI = `[uwsgi]
http = 127.0.0.1:0
socket = 127.0.0.1:0
wsgi-file = app.py
processes = 3
env = A=1
static-map = /s=static
static-expires-uri = ^/s/.*\\.css$ 3600
check-static = static
proxy-pass = /api=api
log-format = %(method) %(uri) %(status)
harakiri = 30
attach-daemon = /bin/sleep 1000

[upstream:api]
server = http://127.0.0.1:9001 weight=5 max_fails=3 fail_timeout=10s
server = uwsgi://127.0.0.1:9002 backup
`;

test('a rich configuration: the thread\'s Config deep-equals (prototypes included) the one loaded here, frozen at its top', async (t) => {
  const tree = makeTree({ 'app.py': 'def application(e, s): pass\n', 'static/x.css': 'x', 'berth.ini': RICH_INI });
  t.after(tree.remove);
  const argv = ['--ini', `${tree.dir}/berth.ini`];
  const here = load(argv, tree.dir);
  const there = await loadOffThread({ argv, cwd: tree.dir, emperor: true });
  assert.equal(there.kind, 'serve');
  assert.ok(there.kind === 'serve' && there.result.ok, 'loads: ' + JSON.stringify(there));
  assert.ok(here.ok, JSON.stringify(here));
  assert.ok(isDeepStrictEqual(there.result.config, here.config), 'the clone lost or changed something');
  assert.deepEqual(there.result.warnings, here.warnings);
  assert.ok(Object.isFrozen(there.result.config));
});

test('problems and warnings come back as the loader wrote them; a reload gets them as lines', async (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const argv = ['--http', ':0', '-w', 'a', '--processes', 'four', '--log-format', '%(status) %(metod)'];
  const here = load(argv, tree.dir);
  const there = await loadOffThread({ argv, cwd: tree.dir, emperor: true });
  assert.ok(there.kind === 'serve' && !there.result.ok);
  assert.ok(!here.ok);
  assert.deepEqual(there.result.problems, here.problems);
  const lines = await reloadOffThread(argv, tree.dir);
  assert.ok(Array.isArray(lines) && lines.length === here.problems.length, JSON.stringify(lines));
  assert.match((lines as string[]).join('\n'), /processes/);
});

test('an emperor configuration is recognised in the thread', async (t) => {
  const tree = makeTree({ 'vassals/.keep': '' });
  t.after(tree.remove);
  const there = await loadOffThread({ argv: ['--emperor', `${tree.dir}/vassals`], cwd: tree.dir, emperor: true });
  assert.equal(there.kind, 'emperor');
  assert.ok(there.kind === 'emperor' && there.emperor.kind === 'ok');
  assert.equal(there.emperor.config.emperor, `${tree.dir}/vassals`);
});
