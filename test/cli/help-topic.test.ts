/** `berth help TOPIC` and `berth --version`, run as a user would. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { helpTopic } from '../../src/cli/help-topic.js';
import { BERTH_BIN, REPO } from '../helpers/berth.js';

const text = (topic: string): string => {
  const r = helpTopic(topic);
  assert.ok('text' in r, `${topic}: ${'unknown' in r ? r.unknown : ''}`);
  return r.text;
};

test('an option name (or alias, short letter, --flag) gives its full page', () => {
  const page = text('processes');
  assert.match(page, /^--processes, --workers, -p <int>\n/);
  assert.match(page, /status: +supported/);
  assert.match(page, /type: +int/);
  assert.match(page, /default: +1/);
  assert.match(page, /env: +BERTH_PROCESSES=<int>/);
  assert.match(page, /uWSGI: +a core option \(processes, workers\)/);
  assert.equal(text('workers'), page);
  assert.equal(text('-p'), page);
  assert.equal(text('--processes'), page);
});

test('a refused or planned option says what to do instead; a Berth-only one says so', () => {
  assert.match(text('emperor-tyrant'), /status: +refused[\s\S]*What to do instead: Berth starts every vassal as the emperor's own user/);
  assert.match(text('smart-attach-daemon2'), /status: +refused for now \(planned[\s\S]*docs\/supervision\.md/);
  assert.match(text('enable-threads'), /Why it is harmless: threads always work/);
  assert.match(text('uwsgi-direct'), /uWSGI: +not a uWSGI option \(Berth only\)/);
  assert.match(text('uwsgi'), /^--socket, --uwsgi-socket/, 'a getopt prefix finds its option');
});

test('a group or a status lists its options', () => {
  const listening = text('listening');
  assert.match(listening, /^Listening: \d+ options/);
  assert.match(listening, /--http <address>/);
  assert.match(text('limits-and-timeouts'), /--harakiri/);
  assert.match(text('refused'), /emperor/);
});

test('an unknown topic gets a did-you-mean and the kinds of topic', () => {
  const r = helpTopic('procesess');
  assert.ok('unknown' in r);
  assert.match(r.unknown, /no help topic 'procesess' — did you mean 'processes'\? A topic is an option name/);
  const none = helpTopic('frobnicate');
  assert.ok('unknown' in none);
  assert.match(none.unknown, /^no help topic 'frobnicate'\. A topic is/);
});

test('the command line: berth help TOPIC, berth --version', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [BERTH_BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  const ok = run('help', 'harakiri');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^--harakiri, -t <seconds>/);
  const bad = run('help', 'nosuchthing');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^berth help: no help topic 'nosuchthing'/);
  const version = run('--version');
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout, `berth ${pkg.version}\n`);
});
