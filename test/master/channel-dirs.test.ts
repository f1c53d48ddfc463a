// The private directories of the channel/relay sockets: a master killed with SIGKILL cannot
// remove its own, so the next master sweeps the stale ones — only its own user's, only older
// than a minute, and never one whose socket still answers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepStaleDirs } from '../../src/master/channel-server.js';

test('stale channel directories are swept; live, young and foreign ones are kept', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'sweep-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const old = new Date(Date.now() - 10 * 60_000);
  const make = (name: string): string => {
    const dir = join(parent, name);
    mkdirSync(dir);
    return dir;
  };
  const dead = make('berth-dead01');
  writeFileSync(join(dead, 'channel.sock'), ''); // nothing listens: connect fails
  const live = make('berth-live01');
  const server = createServer();
  await new Promise<void>((r) => server.listen(join(live, 'channel.sock'), r));
  t.after(() => server.close());
  const young = make('berth-young1');
  writeFileSync(join(young, 'channel.sock'), '');
  const other = make('berth-other-name');
  writeFileSync(join(other, 'channel.sock'), '');
  for (const d of [dead, live, other]) utimesSync(d, old, old);

  assert.equal(await sweepStaleDirs(parent), 1);
  assert.equal(existsSync(dead), false, 'a dead socket older than a minute is swept');
  assert.equal(existsSync(live), true, 'a socket that answers belongs to a live master');
  assert.equal(existsSync(young), true, 'a young directory may belong to a master still starting');
  assert.equal(existsSync(other), true, 'only berth-XXXXXX directories are Berth\'s');
});
