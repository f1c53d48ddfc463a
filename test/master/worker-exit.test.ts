/** The one decision about a worker's exit: each kind from the facts that make it. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { EXIT_CODES } from '../../src/protocol/worker/frames.js';
import { classifyExit, describeExit, type ExitFacts } from '../../src/master/worker-exit.js';

const base: ExitFacts = { code: 1, signal: null, stopping: false, wanted: true, staged: false, wasReady: true, harakiri: false, zygoteGone: false, firstBoot: false };

test('stopping wins over everything: nothing is replaced', () => {
  assert.equal(classifyExit({ ...base, stopping: true, harakiri: true }), 'stopping');
});

test('a retired or surplus worker is not replaced, even if it crashed', () => {
  assert.equal(classifyExit({ ...base, wanted: false, signal: 'SIGSEGV', code: null }), 'retired');
});

test('a staged worker of a reload is left to the reload that waits for it', () => {
  assert.equal(classifyExit({ ...base, staged: true, wasReady: false, code: EXIT_CODES.APP_IMPORT_FAILURE, firstBoot: true }), 'staged');
});

test('a worker its zygote took along is told apart from one that crashed on its own', () => {
  assert.equal(classifyExit({ ...base, zygoteGone: true, code: null, signal: 'SIGKILL' }), 'zygote-gone');
  assert.equal(classifyExit({ ...base, zygoteGone: true, wanted: false }), 'retired');
});

test('harakiri, a crash after READY, and one before READY', () => {
  assert.equal(classifyExit({ ...base, harakiri: true, code: null, signal: 'SIGKILL' }), 'harakiri');
  assert.equal(classifyExit(base), 'crashed');
  assert.equal(classifyExit({ ...base, wasReady: false }), 'crashed-before-ready');
});

test('an import failure is a boot failure only for generation 1 before anything was READY', () => {
  for (const code of [EXIT_CODES.APP_IMPORT_FAILURE, EXIT_CODES.BOOT_FAILURE, EXIT_CODES.USAGE]) {
    assert.equal(classifyExit({ ...base, wasReady: false, firstBoot: true, code }), 'boot-failed');
    assert.equal(classifyExit({ ...base, wasReady: false, firstBoot: false, code }), 'crashed-before-ready');
  }
  assert.equal(classifyExit({ ...base, wasReady: false, firstBoot: true, code: null, signal: 'SIGKILL' }), 'crashed-before-ready');
});

test('describeExit names the signal or the code', () => {
  assert.equal(describeExit(null, 'SIGKILL'), 'killed by SIGKILL');
  assert.equal(describeExit(3, null), 'exit code 3');
});
