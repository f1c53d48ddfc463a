import test from 'node:test';
import assert from 'node:assert/strict';
import { allOptionNames } from '../../src/config/options.js';
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
