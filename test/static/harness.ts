/**
 * Static-file tests run StaticFiles behind Berth's real HTTP front (src/server/http-front.ts)
 * on a loopback port 0, with a stand-in "app" that answers `app <target>` for whatever falls
 * through, and a raw HTTP client that keeps every byte of the answer.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, formatProblem } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { HttpFront } from '../../src/server/http-front.js';
import { ScriptNameRule } from '../../src/server/script-name.js';
import { SpoolBudget } from '../../src/server/spool-budget.js';
import type { Exchange } from '../../src/server/exchange.js';
import { StaticFiles } from '../../src/static/static-files.js';

export interface RawResponse {
  readonly status: number;
  readonly statusLine: string;
  /** Lower-case name → value (last one wins). */
  readonly headers: Readonly<Record<string, string>>;
  /** Header lines in order, as received. */
  readonly headerLines: readonly string[];
  readonly body: Buffer;
}

export interface StaticServer {
  readonly port: number;
  readonly config: Config;
  readonly files: StaticFiles;
  /** Targets that fell through to the app. */
  readonly appHits: string[];
  readonly logs: string[];
  /** Every finished exchange as the request log sees it: "GET /s/a.css 200 6". */
  readonly done: string[];
  stop(): Promise<void>;
}

/** Loads a Config from Berth arguments (a listener and an app name are added). */
export function configFrom(args: readonly string[], cwd = process.cwd()): Config {
  const r = loadConfig({ argv: ['--http', '127.0.0.1:0', '--module', 'testapp', ...args], env: {}, cwd });
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.config;
}

export async function startStatic(args: readonly string[]): Promise<StaticServer> {
  const config = configFrom(args);
  const logs: string[] = [];
  const appHits: string[] = [];
  const log = (level: 'info' | 'warn' | 'error', msg: string): void => void logs.push(`${level}: ${msg}`);
  const files = new StaticFiles(config, log);
  const done: string[] = [];
  const app = (ex: Exchange): void => {
    appHits.push(ex.request.target);
    ex.responder.sendFull('200 OK', ['Content-Type', 'text/plain'], Buffer.from(`app ${ex.request.target}`));
  };
  const front = new HttpFront({
    config,
    scriptNames: new ScriptNameRule([]),
    spool: new SpoolBudget(config.spoolLimitBytes),
    dispatch: (ex) => files.serve(ex, () => app(ex)),
    exchangeDone: (ex) => void done.push(`${ex.request.method} ${ex.request.target} ${ex.status} ${ex.bytesSent}`),
    // As src/router/front.ts wires it: hot files answered by the front from their kept 200.
    hotStatic: (target, requestHeaders) => files.keptFor(target, requestHeaders),
    log,
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    front.accept(s, 'http');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, config, files, appHits, logs, done,
    stop: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** One request with `Connection: close`; resolves with the parsed answer once the server closes. */
export function request(port: number, target: string, headers: Readonly<Record<string, string>> = {}, method = 'GET'): Promise<RawResponse> {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: localhost', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('error', reject);
    s.once('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

export function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response head in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const at = l.indexOf(':');
    headers[l.slice(0, at).trim().toLowerCase()] = l.slice(at + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), statusLine: statusLine!, headers, headerLines, body: raw.subarray(end + 4) };
}

/** A temp directory tree: path → content (string or Buffer); a trailing '/' makes a directory. */
export function makeTree(files: Readonly<Record<string, string | Buffer>>, prefix = 'berth-static-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  fs.chmodSync(dir, 0o755);
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel);
    if (rel.endsWith('/')) {
      fs.mkdirSync(full, { recursive: true, mode: 0o755 });
    } else {
      fs.mkdirSync(path.dirname(full), { recursive: true, mode: 0o755 });
      fs.writeFileSync(full, content, { mode: 0o644 });
    }
  }
  return dir;
}
