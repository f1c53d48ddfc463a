/**
 * A reload that fails part-way: lazy-apps with 2 workers, the new config maps another static
 * prefix, and exactly one of the two new workers fails to import after the other is READY.
 * The reload is abandoned, so the front must keep the old generation's router: the old static
 * mapping serves, the new one does not, and (whole reload) requests still reach the old
 * workers. A chain reload stopped at slot 2 keeps the old config in force the same way.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianPython, startBerth } from '../helpers/berth.js';
import { get, pidOf } from './ops-helpers.js';

/** Armed by the file `armed`: the first importer wins the marker, the other fails after a second. */
const APP = `import os, time
HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.exists(os.path.join(HERE, 'armed')):
    try:
        os.close(os.open(os.path.join(HERE, 'winner'), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        time.sleep(1.0)
        raise RuntimeError('armed: this worker fails to import on purpose')


def application(environ, start_response):
    body = ('app pid %d' % os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

for (const chain of [false, true]) {
  test(`${chain ? 'a chain reload stopped' : 'a reload abandoned'} after one of its new workers was READY keeps the old ${chain ? 'config and its' : 'generation and its'} static mappings`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-partial-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'partial.py'), APP);
    for (const name of ['old', 'new']) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'file.txt'), `${name} static file`);
    }
    const ini = join(dir, 'site.ini');
    const writeIni = (prefix: string, root: string): void => writeFileSync(ini, ['[uwsgi]', 'http = 127.0.0.1:0', `chdir = ${dir}`, 'module = partial', `python = ${debianPython()}`,
      'processes = 2', 'lazy-apps = true', `chain-reload = ${chain}`, `static-map = ${prefix}=${join(dir, root)}`, ''].join('\n'));
    writeIni('/old', 'old');
    const berth = await startBerth(['--ini', ini]);
    t.after(() => berth.stop());
    assert.equal((await get(berth.url('/old/file.txt'))).text, 'old static file');
    const oldPids = new Set<number>();
    for (let i = 0; i < 8; i++) oldPids.add(pidOf((await get(berth.url('/'))).text));

    writeIni('/new', 'new');
    writeFileSync(join(dir, 'armed'), '');
    berth.proc.kill('SIGHUP');
    await berth.waitForLog(chain
      ? /chain reload stopped at worker 2: its replacement did not become ready/
      : /reload failed: new worker \d+ did not become ready[\s\S]*generation 1 keeps serving/, 30_000);

    const oldStatic = await get(berth.url('/old/file.txt'));
    assert.equal(oldStatic.status, 200);
    assert.equal(oldStatic.text, 'old static file', 'the old static mapping still serves');
    const newStatic = await get(berth.url('/new/file.txt'));
    assert.notEqual(newStatic.text, 'new static file', 'the failed config\'s static mapping is not in force');
    assert.match(newStatic.text, /^app pid \d+$/, 'the path falls through to the app');
    // A stopped chain reload keeps the slots it already replaced; only a whole reload keeps every old worker.
    for (let i = 0; i < 6 && !chain; i++) {
      const r = await get(berth.url('/'));
      assert.equal(r.status, 200);
      assert.ok(oldPids.has(pidOf(r.text)), `an old worker answers (${r.text}; old: ${[...oldPids].join(', ')})`);
    }
  });
}
