/**
 * A small browser for the Django admin behind a front reached through a unix socket relay:
 * keeps cookies (csrftoken, sessionid) across requests, fills the CSRF token into forms, and
 * reports which app host answered (the X-App-Host header the test project's middleware adds).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';

export interface Page {
  readonly status: number;
  readonly location: string | undefined;
  readonly appHost: string | undefined;
  readonly body: string;
}

export class DjangoBrowser {
  private readonly cookies = new Map<string, string>();

  /** `socket` is the relay to the front; `host` is the Host header a browser would send. */
  constructor(private readonly socket: string, private readonly host: string) {}

  /** The session cookie, if logged in. */
  session(): string | undefined {
    return this.cookies.get('sessionid');
  }

  get(path: string): Promise<Page> {
    return this.send('GET', path);
  }

  post(path: string, form: Record<string, string>): Promise<Page> {
    return this.send('POST', path, new URLSearchParams(form).toString());
  }

  /** GET the login page, POST the credentials with its CSRF token, follow the redirect to /admin/. */
  async login(username: string, password: string): Promise<Page> {
    const form = await this.get('/admin/login/?next=/admin/');
    assert.equal(form.status, 200, `GET /admin/login/: ${form.status}\n${form.body.slice(0, 500)}`);
    const done = await this.post('/admin/login/?next=/admin/', { csrfmiddlewaretoken: csrfToken(form), username, password, next: '/admin/' });
    assert.equal(done.status, 302, `POST /admin/login/ answered ${done.status} (wrong password or CSRF refused):\n${done.body.slice(0, 800)}`);
    assert.equal(done.location, '/admin/');
    assert.ok(this.session(), 'the login set no sessionid cookie');
    return this.get(done.location);
  }

  /** Adds an auth Group through the admin's add form; returns the POST's answer (a 302 on success). */
  async addGroup(name: string): Promise<Page> {
    const form = await this.get('/admin/auth/group/add/');
    assert.equal(form.status, 200, `GET /admin/auth/group/add/: ${form.status}\n${form.body.slice(0, 500)}`);
    return this.post('/admin/auth/group/add/', { csrfmiddlewaretoken: csrfToken(form), name, _save: 'Save' });
  }

  private send(method: string, path: string, body?: string): Promise<Page> {
    const headers: Record<string, string> = { host: this.host };
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socket, path, method, headers, agent: false }, (res) => {
        for (const line of res.headers['set-cookie'] ?? []) {
          const [pair] = line.split(';');
          const eq = pair!.indexOf('=');
          const name = pair!.slice(0, eq).trim();
          const value = pair!.slice(eq + 1).trim();
          if (value === '' || /max-age=0\b/i.test(line)) this.cookies.delete(name);
          else this.cookies.set(name, value.replace(/^"|"$/g, ''));
        }
        let text = '';
        res.setEncoding('utf8').on('data', (t: string) => (text += t));
        res.on('end', () => resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          appHost: res.headers['x-app-host'] as string | undefined,
          body: text,
        }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

function csrfToken(page: Page): string {
  const m = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(page.body);
  assert.ok(m, `no csrfmiddlewaretoken in the form:\n${page.body.slice(0, 800)}`);
  return m[1]!;
}
