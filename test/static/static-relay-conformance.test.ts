/**
 * The static/relay table (test/fixtures/conformance/static-relay.json): which requests the
 * master's static stage claims (StaticFiles.claims, for static-map mountpoints) and which
 * STATIC_URL/MEDIA_URL it maps (djangoMountpoint). test/python/test_conformance.py checks the
 * relay column against the worker's for_static_stage; both check that static implies relay.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { djangoMountpoint, StaticFiles } from '../../src/static/static-files.js';
import { loadTable, readTable } from '../helpers/conformance.js';
import { configFrom } from './harness.js';

interface RelayCase {
  readonly name: string;
  readonly why: string;
  readonly mountpoints: readonly string[];
  readonly method: string | null;
  readonly uri: string | null;
  readonly static: boolean | null;
  readonly relay: boolean;
}

const table = loadTable<RelayCase>('static-relay.json');
const django = readTable<{ django: readonly { url: string; mountpoint: string | null; why: string }[] }>('static-relay.json').django;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-static-relay-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function stageFor(mountpoints: readonly string[]): StaticFiles {
  const args = mountpoints.flatMap((m) => ['--static-map', `${m}=${root}`]);
  return new StaticFiles(configFrom(args), () => undefined);
}

for (const c of table.cases) {
  test(`static/relay conformance: ${c.name} (${c.why})`, () => {
    assert.ok(c.static !== true || c.relay, 'the table breaks its invariant: the static stage claims a request the worker serves itself');
    if (c.uri === null) {
      assert.equal(c.static, null, 'without REQUEST_URI the table has no static answer');
      return;
    }
    const stage = stageFor(c.mountpoints);
    assert.equal(stage.claims(c.method ?? 'GET', c.uri), c.static);
  });
}

for (const d of django) {
  test(`static/relay conformance: Django URL ${d.url} (${d.why})`, () => {
    assert.equal(djangoMountpoint(d.url), d.mountpoint);
  });
}
