import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { helpText } from '../../src/cli/help.js';
import { configurationMarkdown } from '../../src/config/docs.js';
import { OPTIONS } from '../../src/config/options.js';

test('docs/configuration.md is generated from the option table', () => {
  const file = path.join(process.cwd(), 'docs', 'configuration.md');
  const onDisk = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  assert.ok(onDisk === configurationMarkdown(), 'docs/configuration.md is out of date with src/config/options.ts; regenerate it: npm run build && node dist/src/config/docs.js > docs/configuration.md');
});

test('http-socket and socket-timeout say which timeout http-socket clients get (uWSGI: socket-timeout)', () => {
  const help = (name: string): string => OPTIONS.find((o) => o.name === name)?.help ?? '';
  assert.match(help('http-socket'), /socket-timeout instead of http-timeout/);
  assert.doesNotMatch(help('http-socket'), /same as http/i);
  assert.match(help('socket-timeout'), /http-socket/);
});

test('the docs list every option with its status section', () => {
  const md = configurationMarkdown();
  for (const o of OPTIONS) assert.ok(md.includes(`| \`${o.name}\` |`), o.name);
  assert.match(md, /## Accepted uWSGI options/);
  assert.match(md, /## Planned uWSGI options/);
});

test('--help shows usage and every supported option, not the planned ones', () => {
  const text = helpText();
  assert.match(text, /berth \[options\]/);
  assert.match(text, /berth check \[options\]/);
  assert.match(text, /berth --version/);
  for (const o of OPTIONS.filter((x) => x.status === 'supported')) assert.ok(text.includes(`--${o.name}`), o.name);
  assert.match(text, /--processes, --workers, -p N/);
  assert.ok(!text.includes('--master-fifo'));
  for (const line of text.split('\n')) assert.ok(line.length <= 100, `line too long: ${line}`);
});
