/** docs/uwsgi-compat.md carries the full uWSGI option classification, generated from the table. */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BEGIN, END, uwsgiCompatSection, withCompatSection } from '../../src/config/docs-compat.js';
import { UWSGI_OPTIONS } from '../../src/config/uwsgi-options/index.js';

test('the committed docs/uwsgi-compat.md equals the generated classification', () => {
  const doc = fs.readFileSync(path.join(process.cwd(), 'docs', 'uwsgi-compat.md'), 'utf8');
  assert.ok(doc === withCompatSection(doc), 'docs/uwsgi-compat.md is out of date with the option table; regenerate it: npm run build && node dist/src/config/docs-compat.js docs/uwsgi-compat.md');
  assert.ok(doc.includes(BEGIN) && doc.includes(END));
});

test('every stored uWSGI option appears once in the generated section', () => {
  const section = uwsgiCompatSection();
  for (const [name] of UWSGI_OPTIONS) {
    const hits = section.split(`\`${name}\``).length - 1;
    assert.equal(hits, 1, `${name} appears ${hits} times`);
  }
});
