/**
 * The same files, the same requests, to real nginx and to Berth: status, body bytes and the
 * representation headers (Content-Type, Content-Length, Content-Range, ETag, Last-Modified,
 * Accept-Ranges) must be identical. Server, Date and Connection are ignored, multipart
 * boundaries (a per-process counter in both) are compared as <B>, and for 412/416 only status
 * and Content-Range count (the error page names the server).
 *
 * nginx is configured as Berth behaves: `if_modified_since before` (RFC 9110 §13.1.3: "not
 * modified since" — nginx's default `exact` answers 200 to a later date), and a `types {}`
 * block and `charset_types` generated from Berth's own MIME table.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';
import { builtInTypes, isTextType } from '../../src/static/mime.js';
import { makeTree, request, startStatic, type RawResponse, type StaticServer } from './harness.js';

const MTIME = new Date('2024-03-05T06:07:08Z');
const FILES: Record<string, Buffer> = {
  'a.css': Buffer.from('body { color: #c00; }\n/* ünïcode */\n'),
  'app.js': Buffer.from('export const x = 1;\n'),
  'logo.svg': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>\n'),
  'font.woff2': crypto.randomBytes(300),
  'a.bin': crypto.randomBytes(1000),
  'big.bin': crypto.randomBytes(200 * 1024 + 17),
  'empty.bin': Buffer.alloc(0),
  'noext': Buffer.from('no extension'),
};
const root = makeTree(FILES);
for (const name of Object.keys(FILES)) fs.utimesSync(path.join(root, name), MTIME, MTIME);

function nginxTypes(): string {
  const byType = new Map<string, string[]>();
  for (const [ext, type] of builtInTypes()) byType.set(type, [...(byType.get(type) ?? []), ext]);
  const lines = [...byType].map(([type, exts]) => `      ${type} ${exts.join(' ')};`);
  const text = [...byType.keys()].filter((t) => isTextType(t) && t !== 'text/html');
  return `types {\n${lines.join('\n')}\n    }\n    default_type application/octet-stream;\n    charset utf-8;\n    charset_types ${text.join(' ')};`;
}

let nginx: RunningNginx;
let berth: StaticServer;
/** Keeps no file in memory, so every body is read from disk and big.bin takes the streamed path. */
let berthFromDisk: StaticServer;
before(async () => {
  nginx = await startNginx(`server {
  location /static/ {
    alias ${root}/;
    if_modified_since before;
    ${nginxTypes()}
  }
}`);
  berth = await startStatic(['--static-map', `/static=${root}`]);
  berthFromDisk = await startStatic(['--static-map', `/static=${root}`, '--static-cache-size', '0']);
});
after(async () => {
  await nginx?.stop();
  await berth?.stop();
  await berthFromDisk?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const COMPARED = ['content-type', 'content-length', 'content-range', 'etag', 'last-modified', 'accept-ranges', 'content-encoding', 'vary'];

function normalize(r: RawResponse): { status: number; headers: Record<string, string | undefined>; body: string } {
  const boundary = /boundary=(\d{20})/.exec(r.headers['content-type'] ?? '')?.[1];
  const errorPage = r.status === 412 || r.status === 416;
  const fields = errorPage ? ['content-range'] : COMPARED;
  const headers: Record<string, string | undefined> = {};
  for (const h of fields) headers[h] = r.headers[h]?.split(boundary ?? '\u0000').join('<B>');
  let body = errorPage ? '' : r.body.toString('latin1');
  if (boundary !== undefined) body = body.split(boundary).join('<B>');
  return { status: r.status, headers, body };
}

const lastModified = MTIME.toUTCString();
const dayBefore = new Date(MTIME.getTime() - 86_400_000).toUTCString();
const dayAfter = new Date(MTIME.getTime() + 86_400_000).toUTCString();
const etagOf = (name: string): string => `"${Math.floor(MTIME.getTime() / 1000).toString(16)}-${FILES[name]!.length.toString(16)}"`;

type Case = readonly [file: string, headers: Record<string, string>, method?: string];

const RANGES = [
  'bytes=0-0', 'bytes=0-4', 'bytes=-5', 'bytes=995-', 'bytes=995-2000', 'bytes=1000-', 'bytes=5-2', 'bytes=0-1,1000-1001',
  'bytes=1000-1001,2000-', 'bytes=-0', 'bytes=0-999,0-999', 'bytes=0-600,500-999', 'bytes=10-20,0-5', 'bytes = 0-5',
  'bytes=0-5 , 7-9', 'items=0-5', 'bytes=abc', 'bytes=0-5,', 'bytes=,0-5', 'bytes=01-02', 'bytes=-2000', 'bytes=0-',
  'bytes=0-4,5-9', 'bytes=-', 'bytes=', 'BYTES=0-1', 'bytes=0-1,abc', 'bytes=0-99999999999999999999', 'bytes=0-1,3-4,6-7,9-',
];

function cases(): Case[] {
  const out: Case[] = [];
  for (const f of Object.keys(FILES)) out.push([f, {}], [f, {}, 'HEAD']);
  for (const f of ['a.bin', 'big.bin', 'empty.bin']) for (const r of RANGES) out.push([f, { Range: r }]);
  out.push(['big.bin', { Range: 'bytes=70000-140000' }], ['big.bin', { Range: 'bytes=0-65535,65536-131071,204000-' }], ['big.bin', { Range: 'bytes=-1' }]);
  out.push(['a.bin', { Range: 'bytes=0-4' }, 'HEAD'], ['a.bin', { Range: 'bytes=0-4,6-7' }, 'HEAD']);
  out.push(['a.css', { Range: 'bytes=2-9' }], ['a.css', { Range: 'bytes=0-1,4-5' }]);
  for (const f of ['a.css', 'big.bin']) {
    const etag = etagOf(f);
    out.push(
      [f, { 'If-None-Match': etag }],
      [f, { 'If-None-Match': `W/${etag}` }],
      [f, { 'If-None-Match': `"nope", ${etag}` }],
      [f, { 'If-None-Match': `"nope",${etag} , "other"` }],
      [f, { 'If-None-Match': '*' }],
      [f, { 'If-None-Match': '"nope"' }],
      [f, { 'If-None-Match': etag }, 'HEAD'],
      [f, { 'If-Modified-Since': lastModified }],
      [f, { 'If-Modified-Since': dayAfter }],
      [f, { 'If-Modified-Since': dayBefore }],
      [f, { 'If-Modified-Since': 'not a date' }],
      [f, { 'If-Modified-Since': 'Tuesday, 05-Mar-24 06:07:08 GMT' }],
      [f, { 'If-Modified-Since': 'Tue Mar  5 06:07:08 2024' }],
      [f, { 'If-None-Match': '"nope"', 'If-Modified-Since': lastModified }],
      [f, { 'If-Match': etag }],
      [f, { 'If-Match': '"nope"' }],
      [f, { 'If-Match': `W/${etag}` }],
      [f, { 'If-Match': '*' }],
      [f, { 'If-Unmodified-Since': dayBefore }],
      [f, { 'If-Unmodified-Since': lastModified }],
      [f, { Range: 'bytes=0-9', 'If-Range': etag }],
      [f, { Range: 'bytes=0-9', 'If-Range': '"nope"' }],
      [f, { Range: 'bytes=0-9', 'If-Range': `W/${etag}` }],
      [f, { Range: 'bytes=0-9', 'If-Range': lastModified }],
      [f, { Range: 'bytes=0-9', 'If-Range': dayAfter }],
      [f, { Range: 'bytes=0-9,20-29', 'If-Range': etag }],
      [f, { Range: 'bytes=0-9', 'If-None-Match': etag }],
      [f, { Range: 'bytes=99999999-', 'If-Range': '"nope"' }],
    );
  }
  return out;
}

test('Berth answers static files byte for byte as nginx does', async () => {
  const all = cases();
  assert.ok(all.length > 150, `${all.length} cases`);
  const mismatches: string[] = [];
  for (const [file, headers, method = 'GET'] of all) {
    const target = `/static/${file}`;
    const [n, ...answers] = await Promise.all([nginx.port, berth.port, berthFromDisk.port].map((port) => request(port, target, headers, method)));
    const nn = normalize(n!);
    for (const [i, b] of answers.entries()) {
      const bb = normalize(b);
      try {
        assert.deepEqual(bb, nn);
      } catch {
        const who = i === 0 ? 'berth' : 'berth (static-cache-size 0)';
        mismatches.push(`${method} ${target} ${JSON.stringify(headers)}:\n  nginx ${JSON.stringify({ ...nn, body: nn.body.length })}\n  ${who} ${JSON.stringify({ ...bb, body: bb.body.length })}${nn.body !== bb.body ? ' (bodies differ)' : ''}`);
      }
    }
  }
  assert.deepEqual(mismatches, []);
  assert.deepEqual(berth.appHits, []);
  assert.deepEqual(berthFromDisk.appHits, []);
});

test('validators are nginx-formatted and the same in both', async () => {
  const [n, b] = await Promise.all([request(nginx.port, '/static/a.bin'), request(berth.port, '/static/a.bin')]);
  assert.equal(b.headers['etag'], etagOf('a.bin'));
  assert.equal(b.headers['etag'], n.headers['etag']);
  assert.equal(b.headers['last-modified'], 'Tue, 05 Mar 2024 06:07:08 GMT');
  assert.equal(b.headers['content-type'], 'application/octet-stream');
  assert.equal((await request(berth.port, '/static/a.css')).headers['content-type'], 'text/css; charset=utf-8');
});
