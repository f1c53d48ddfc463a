/**
 * What a seed deployment must do once it runs: the hello page, the admin login page with its
 * CSS (collected static files), and an upload served back from /media — each through the
 * front the seed puts before the app (nginx, or Berth's own http port).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

/**
 * Checks the site behind `base` (e.g. http://127.0.0.1:PORT); `where` names the front in messages.
 * `media: false` for a seed whose config serves no /media: the upload must be stored, and its URL
 * must get Django's 404 (DEBUG off), the "uploads not shown" the notes complain of.
 */
export async function checkDjangoSite(base: string, where: string, diagnostics: () => string, opts: { media?: boolean } = {}): Promise<void> {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200, `GET / through ${where}: ${page.status}\n${diagnostics()}`);
  assert.match(await page.text(), /hello from the seed project/);

  const login = await fetch(`${base}/admin/login/`);
  const html = await login.text();
  assert.equal(login.status, 200, `GET /admin/login/ through ${where}: ${login.status}\n${html.slice(0, 300)}\n${diagnostics()}`);
  const css = /href="(\/static\/admin\/css\/[^"]+\.css)"/.exec(html);
  assert.ok(css, `the admin login page links no CSS:\n${html.slice(0, 500)}`);
  const sheet = await fetch(`${base}${css[1]}`);
  assert.equal(sheet.status, 200, `GET ${css[1]} through ${where}: ${sheet.status} (collectstatic + static alias/static-map)\n${diagnostics()}`);
  assert.match(sheet.headers.get('content-type') ?? '', /^text\/css/);

  const body = randomBytes(200_000);
  const form = new FormData();
  form.append('file', new Blob([body]), `seed-${randomBytes(4).toString('hex')}.bin`);
  const up = await fetch(`${base}/upload/`, { method: 'POST', body: form });
  const upText = await up.text();
  assert.equal(up.status, 200, `POST /upload/ through ${where}: ${up.status}\n${upText.slice(0, 300)}\n${diagnostics()}`);
  const { url, size } = JSON.parse(upText) as { url: string; size: number };
  assert.equal(size, body.length);
  const back = await fetch(`${base}${url}`);
  if (opts.media === false) {
    assert.equal(back.status, 404, `GET ${url} through ${where}: this seed serves no /media, yet got ${back.status}`);
    return;
  }
  assert.equal(back.status, 200, `GET ${url} (the upload, from /media) through ${where}: ${back.status}\n${diagnostics()}`);
  assert.deepEqual(Buffer.from(await back.arrayBuffer()), body);
}
