import test from 'node:test';
import assert from 'node:assert/strict';
import { lexIni } from '../../src/config/ini/lexer.js';

test('sections, key = value, key=value, comments and line numbers', () => {
  const r = lexIni('# top comment\n[uwsgi]\nhttp = :8000\n; another comment\nprocesses=4\n\n  threads  =  2  \n[other]\nmodule = x\n');
  assert.deepEqual(r.sections, ['uwsgi', 'other']);
  assert.deepEqual(r.entries, [
    { section: 'uwsgi', key: 'http', value: ':8000', line: 3 },
    { section: 'uwsgi', key: 'processes', value: '4', line: 5 },
    { section: 'uwsgi', key: 'threads', value: '2', line: 7 },
    { section: 'other', key: 'module', value: 'x', line: 9 },
  ]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.inlineCommentLines, []);
});

test('values keep later = signs and #s not preceded by whitespace', () => {
  const r = lexIni('[uwsgi]\nenv = A=b=c\nenv = COLOR=#fff\n');
  assert.deepEqual(r.entries.map((e) => e.value), ['A=b=c', 'COLOR=#fff']);
  assert.deepEqual(r.inlineCommentLines, []);
});

test('inline comments are cut and every such line is reported', () => {
  const r = lexIni('[uwsgi]\nchdir = /srv/site #project dir\nhttp = :8000\tmore # tail\nmaster #bare\nkey = # only a comment\n');
  assert.deepEqual(r.entries.map((e) => [e.key, e.value]), [['chdir', '/srv/site'], ['http', ':8000\tmore'], ['master', null], ['key', '']]);
  assert.deepEqual(r.inlineCommentLines, [2, 3, 4, 5]);
});

test('repeated keys are all kept, in order', () => {
  const r = lexIni('[uwsgi]\npythonpath = a\npythonpath = b\nprocesses = 1\nprocesses = 2\n');
  assert.deepEqual(r.entries.map((e) => `${e.key}=${e.value}`), ['pythonpath=a', 'pythonpath=b', 'processes=1', 'processes=2']);
});

test('a bare key has a null value', () => {
  const r = lexIni('[uwsgi]\nmaster\nvacuum\n');
  assert.deepEqual(r.entries.map((e) => [e.key, e.value]), [['master', null], ['vacuum', null]]);
});

test('CRLF line endings and a BOM change nothing', () => {
  const plain = lexIni('[uwsgi]\nhttp = :8000\nprocesses = 4\n');
  const windows = lexIni('\uFEFF[uwsgi]\r\nhttp = :8000\r\nprocesses = 4\r\n');
  assert.deepEqual(windows, plain);
});

test('lines before any section get section "" and malformed lines are errors with their line', () => {
  const r = lexIni('processes = 4\n[uwsgi\n= value\n[]\n');
  assert.deepEqual(r.entries, [{ section: '', key: 'processes', value: '4', line: 1 }]);
  assert.deepEqual(r.errors.map((e) => e.line), [2, 3, 4]);
});

test('section headers may carry a trailing comment and spaces', () => {
  const r = lexIni('[ uwsgi ] # main\nhttp = :1\n');
  assert.deepEqual(r.sections, ['uwsgi']);
  assert.equal(r.entries[0]?.section, 'uwsgi');
});
