/**
 * Test helper (no tests here): runs the real python/berth_worker.py the way the master does
 * (fd 3 = a socketpair from stdio 'pipe') and speaks frames to it with this folder's codec.
 * Every process it starts is remembered so `killAll` (wired to `after`) can end it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';

import { FrameDecoder, parseFull, parseHeadBlock, type Frame } from '../../../src/protocol/worker/decode.js';
import { parseReady, type ReadyInfo } from '../../../src/protocol/worker/payloads.js';
import { encodeAck, encodeBody, encodeBodyEnd, encodeRequest, environBlock } from '../../../src/protocol/worker/encode.js';
import { FromWorker } from '../../../src/protocol/worker/frames.js';

export const PYTHON = '/usr/bin/python3';
export const WORKER = path.join(process.cwd(), 'python', 'berth_worker.py');
export const APPS = path.join(process.cwd(), 'test', 'fixtures', 'worker-apps');

if (!existsSync(PYTHON)) {
  throw new Error(`${PYTHON} is missing: the worker integration tests need Debian's python3 (run scripts/install-test-deps.sh)`);
}
if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run the tests from the repository root`);

export interface WorkerConfig {
  module: string | null;
  wsgi_file: string | null;
  callable: string;
  chdir: string | null;
  pythonpath: string[];
  threads: number;
  processes: number;
  worker_id: number;
  check: boolean;
  mode: 'worker' | 'zygote';
  django_static: boolean;
  django_check: boolean;
  channel_path: string | null;
  token: string;
  uid: string | number | null;
  gid: string | number | null;
  umask: number | null;
  py_autoreload: number;
  own_group: boolean;
  reload_on_rss: number;
  direct: object | null;
  http_direct: object | null;
}

export interface Response {
  status: string | null;
  headers: string[];
  body: Buffer;
  error: string | null;
  /** 'full' for one FULL frame, 'stream' for HEAD/BODY/END, null when only ERROR/END came. */
  kind: 'full' | 'stream' | null;
  /** Every frame type seen for this request, in order (CREDIT included). */
  types: number[];
}

export interface RequestOptions {
  method?: string;
  query?: string;
  /** Sent as BODY frames (one per element), then BODY_END. */
  body?: Buffer[];
  extra?: string[];
}

const started = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly channel: Socket;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  #decoder = new FrameDecoder();
  #frames: Frame[] = [];
  #wake: (() => void) | null = null;
  #eof = false;

  constructor(config: Partial<WorkerConfig>) {
    // Complete, as spawn.ts sends it: the worker refuses a missing key (worker-config.json).
    const full: WorkerConfig = {
      module: 'apps', wsgi_file: null, callable: 'application', chdir: APPS, pythonpath: [], threads: 1,
      processes: 1, worker_id: 1, check: false, mode: 'worker', django_static: false, django_check: true, channel_path: null, token: '',
      uid: null, gid: null, umask: null, py_autoreload: 0, own_group: false, reload_on_rss: 0, direct: null, http_direct: null, ...config,
    };
    this.child = spawn(PYTHON, [WORKER], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, BERTH_CHANNEL_FD: '3', BERTH_WORKER_CONFIG: JSON.stringify(full) },
    });
    started.add(this.child);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.stdout!.resume();
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      if (this.stderr.length < 1 << 20) this.stderr += text;
    });
    this.channel = this.child.stdio[3] as Socket;
    this.channel.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      for (let f = this.#decoder.next(); f !== null; f = this.#decoder.next()) this.#frames.push(f);
      this.#notify();
    });
    this.channel.on('end', () => { this.#eof = true; this.#notify(); });
    this.channel.on('error', () => { this.#eof = true; this.#notify(); });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** The next frame, or null once the worker closed its end. */
  async frame(timeoutMs = 10_000): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length === 0) {
      if (this.#eof) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame from the worker within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => { clearTimeout(timer); resolve(); };
      });
    }
    return this.#frames.shift()!;
  }

  /** Frames that arrive within quietMs of each other, without waiting longer. */
  async framesUntilQuiet(quietMs: number): Promise<Frame[]> {
    const frames: Frame[] = [];
    for (;;) {
      try {
        const f = await this.frame(quietMs);
        if (f === null) return frames;
        frames.push(f);
      } catch {
        return frames;
      }
    }
  }

  async ready(): Promise<ReadyInfo> {
    const f = await this.frame();
    if (f === null || f.type !== FromWorker.READY) {
      throw new Error(`expected READY, got ${f === null ? 'EOF' : `type 0x${f.type.toString(16)} ${f.payload.toString()}`}\n${this.stderr}`);
    }
    return parseReady(f.payload);
  }

  send(...buffers: Buffer[]): void {
    for (const b of buffers) this.channel.write(b);
  }

  request(id: number, pathInfo: string, options: RequestOptions = {}): void {
    const query = options.query ?? '';
    const pairs = ['REQUEST_METHOD', options.method ?? 'GET', 'SCRIPT_NAME', '', 'PATH_INFO', pathInfo,
      'QUERY_STRING', query, 'SERVER_NAME', 'localhost', 'SERVER_PORT', '8000', 'SERVER_PROTOCOL', 'HTTP/1.1',
      'REMOTE_ADDR', '127.0.0.1', 'REMOTE_PORT', '40000', 'REQUEST_URI', pathInfo + (query ? `?${query}` : ''),
      'wsgi.url_scheme', 'http', 'HTTP_HOST', 'localhost:8000', ...(options.extra ?? [])];
    const body = options.body;
    if (body !== undefined) {
      const length = body.reduce((n, b) => n + b.length, 0);
      pairs.push('CONTENT_LENGTH', String(length), 'CONTENT_TYPE', 'application/octet-stream');
    }
    this.send(encodeRequest(id, environBlock(pairs), body !== undefined));
    if (body !== undefined) {
      for (const chunk of body) this.send(...encodeBody(id, chunk));
      this.send(encodeBodyEnd(id));
    }
  }

  /** Collects one response's frames until FULL, END or ERROR; ACKs BODY frames unless told not to. */
  async response(id: number, ack = true): Promise<Response> {
    const out: Response = { status: null, headers: [], body: Buffer.alloc(0), error: null, kind: null, types: [] };
    const chunks: Buffer[] = [];
    for (;;) {
      const f = await this.frame();
      if (f === null) throw new Error(`channel closed before response ${id} ended; stderr:\n${this.stderr}`);
      if (f.id !== id) throw new Error(`frame type 0x${f.type.toString(16)} for id ${f.id} while reading ${id}`);
      out.types.push(f.type);
      if (f.type === FromWorker.FULL) {
        const { head, body } = parseFull(f.payload);
        Object.assign(out, { status: head.status, headers: head.headers, body, kind: 'full' });
        return out;
      }
      if (f.type === FromWorker.HEAD) {
        const head = parseHeadBlock(f.payload);
        Object.assign(out, { status: head.status, headers: head.headers, kind: 'stream' });
      } else if (f.type === FromWorker.BODY) {
        chunks.push(f.payload);
        if (ack) this.send(encodeAck(id, f.payload.length));
      } else if (f.type === FromWorker.ERROR || f.type === FromWorker.END) {
        out.body = Buffer.concat(chunks);
        if (f.type === FromWorker.ERROR) out.error = f.payload.toString('utf8');
        return out;
      }
    }
  }
}
