/** Command-line prefixes of long options, as uWSGI's getopt_long reads them; ini keys stay exact. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readArgv } from '../../src/config/argv.js';
import { loadConfig, formatProblem } from '../../src/config/load.js';
import { matchPrefix } from '../../src/config/options.js';
import { ok as config, problems } from './results.js';
import { makeTree } from './tmp-dir.js';

test('--uwsgi is uwsgi-socket (= socket), as in uWSGI, where no other option begins with "uwsgi"', () => {
  assert.deepEqual(matchPrefix('uwsgi'), { kind: 'prefix', name: 'uwsgi-socket' });
  const c = config(loadConfig({ argv: ['--uwsgi', '127.0.0.1:8000', '--module', 'app'], env: {}, cwd: '/' }));
  assert.deepEqual(c.uwsgi.map((a) => a.text), ['127.0.0.1:8000']);
  assert.deepEqual(readArgv(['--uwsgi=127.0.0.1:8000']).settings.map((s) => [s.written, s.name, s.value]), [['--uwsgi', 'uwsgi-socket', '127.0.0.1:8000']]);
});

test('an exact name wins over the longer names it begins', () => {
  assert.deepEqual(matchPrefix('http'), { kind: 'exact', name: 'http' });
  assert.deepEqual(matchPrefix('socket'), { kind: 'exact', name: 'socket' });
  const c = config(loadConfig({ argv: ['--http', '127.0.0.1:0', '--module', 'app', '--proces', '3', '--threads', '2'], env: {}, cwd: '/' }));
  assert.equal(c.processes, 3);
  assert.equal(c.threads, 2);
  // threads-stacksize, thread-stacksize… also begin with "thre": getopt refuses to guess.
  assert.equal(matchPrefix('thre').kind, 'ambiguous');
});

test('an ambiguous prefix is an error listing the candidates', () => {
  const m = matchPrefix('log-ma');
  assert.equal(m.kind, 'ambiguous');
  const out = problems(loadConfig({ argv: ['--http', ':0', '--module', 'app', '--log-ma', '1m'], env: {}, cwd: '/' }));
  assert.equal(out.length, 1);
  assert.match(out[0]!, /^option '--log-ma' is ambiguous: it is the beginning of --log-master, --log-master-bufsize, --log-master-stream, --log-master-req-stream, --log-maxsize \(command line\) — write the option in full/);
});

test("Berth's own options are not reached by prefixes (uWSGI does not know them)", () => {
  assert.deepEqual(matchPrefix('uwsgi-dir'), { kind: 'none' });
  const out = problems(loadConfig({ argv: ['--http', ':0', '--module', 'app', '--uwsgi-dir'], env: {}, cwd: '/' }));
  assert.match(out.join('\n'), /unknown option '--uwsgi-dir'/);
});

test('ini keys must be exact (as in uWSGI); a prefix gets the full name as its did-you-mean', (t) => {
  const tree = makeTree({ 'a.ini': '[uwsgi]\nmodule = app\nuwsgi = 127.0.0.1:8000\n' });
  t.after(tree.remove);
  const r = loadConfig({ argv: ['--ini', `${tree.dir}/a.ini`], env: {}, cwd: tree.dir });
  const lines = r.ok ? [] : r.problems.map(formatProblem);
  assert.ok(lines.some((l) => /unknown option 'uwsgi'.*did you mean 'uwsgi-socket'\?/.test(l)), lines.join('\n'));
  assert.ok(!lines.some((l) => /'wsgi'/.test(l)), 'never wsgi (module): a different meaning');
});

test('a refused uWSGI option reached by a prefix is refused under its full name with the alternative', () => {
  const out = problems(loadConfig({ argv: ['--http', ':0', '--module', 'app', '--early-emp'], env: {}, cwd: '/' }));
  assert.equal(out.length, 1);
  assert.match(out[0]!, /^option '--early-emp' is a uWSGI option Berth does not support \(command line\) — Berth's emperor reads emperor, emperor-stats, emperor-throttle, emperor-max-throttle and emperor-freq \(docs\/supervision-emperor\.md\); this one has no counterpart/);
});
