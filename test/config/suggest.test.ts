import test from 'node:test';
import assert from 'node:assert/strict';
import { allOptionNames, suggestOption } from '../../src/config/options.js';
import { editDistance, suggest } from '../../src/config/suggest.js';

const names = allOptionNames();

test('common misspellings find the real option or alias', () => {
  assert.equal(suggest('process', names), 'processes');
  assert.equal(suggest('wokers', names), 'workers');
  assert.equal(suggest('moduel', names), 'module');
  assert.equal(suggest('wsgi_file', names), 'wsgi-file');
  assert.equal(suggest('buffersize', names), 'buffer-size');
  assert.equal(suggest('virtualev', names), 'virtualenv');
  assert.equal(suggest('thread', names), 'threads');
  assert.equal(suggest('Master', names), 'master');
});

test('nothing is suggested for names far from every option', () => {
  assert.equal(suggest('frobnicate', names), undefined);
  assert.equal(suggest('x', names), undefined);
});

test('edit distance counts an adjacent swap as one edit', () => {
  assert.equal(editDistance('moduel', 'module'), 1);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('did-you-mean proposes only close typos of an option with the same meaning', () => {
  const table: [string, string | undefined][] = [
    ['uwsgi', 'uwsgi-socket'], // a getopt prefix (ini keys must be exact) — never wsgi (module)
    ['wsgii', undefined], // wsgi is a short name: a dropped or added letter is another option
    ['htps', undefined], // http or https? different meanings, so no guess
    ['http2', undefined],
    ['htpp', 'http'],
    ['scoket', 'socket'],
    ['soket', 'socket'],
    ['mastr', 'master'],
    ['harakri', 'harakiri'],
    ['procesess', 'processes'],
    ['logto3', undefined], // logto or logto2: both one edit away
    ['emperorr', 'emperor'],
    ['log-truncat', 'log-truncate'],
    ['pythonpth', 'pythonpath'],
    ['max-request', 'max-requests'],
    ['frobnicate', undefined],
  ];
  for (const [typo, expected] of table) assert.equal(suggestOption(typo), expected, typo);
  assert.equal(suggest('uwsgi', names), undefined, 'by spelling alone uwsgi is nothing: wsgi would change the meaning');
});
