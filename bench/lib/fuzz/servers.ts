/**
 * The three Berths a fuzz campaign needs (an `http` port, a master-path socket, a
 * direct-path socket), each serving the recording app, for the soak script. Each runs in its
 * own process group under the bench's Tracker, so none outlives the soak.
 */
import { join } from 'node:path';
import { processTree, spawnServer, trySignal, type ServerProcess, type Tracker } from '../proc.js';

export interface FuzzServerSettings {
  readonly root: string;
  readonly python: string;
  readonly dir: string;
  readonly processes: number;
  readonly threads: number;
  readonly headBytes: number;
  readonly bodyBytes: number;
  readonly timeoutS: number;
}

export interface FuzzServer {
  readonly name: 'http' | 'uwsgi-master' | 'uwsgi-direct';
  readonly process: ServerProcess;
  readonly port: number;
  readonly record: string;
  log(): string;
  tree(): number[];
}

const LISTEN = {
  http: ['--http', '127.0.0.1:0'],
  'uwsgi-master': ['--socket', '127.0.0.1:0', '--uwsgi-direct=false'],
  'uwsgi-direct': ['--socket', '127.0.0.1:0'],
} as const;

export async function startFuzzServer(tracker: Tracker, s: FuzzServerSettings, name: FuzzServer['name']): Promise<FuzzServer> {
  const record = join(s.dir, `${name}.jsonl`);
  const args = [
    join(s.root, 'bin/berth.js'), ...LISTEN[name], '--chdir', join(s.root, 'test/fixtures/apps'), '--module', 'fuzz_record',
    '--processes', String(s.processes), '--threads', String(s.threads), '--python', s.python, '--env', `FUZZ_RECORD=${record}`,
    '--buffer-size', String(s.headBytes), '--limit-post', String(s.bodyBytes),
    '--http-timeout', String(s.timeoutS), '--socket-timeout', String(s.timeoutS),
  ];
  const server = spawnServer(tracker, process.execPath, args, s.root, { ...process.env, TMPDIR: s.dir });
  let log = '';
  server.child.stdout!.setEncoding('utf8').on('data', (t: string) => (log += t));
  server.child.stderr!.setEncoding('utf8').on('data', (t: string) => (log += t));
  const ready = new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (/all \d+ worker\(s\) ready/.test(log)) resolve();
    };
    server.child.stdout!.on('data', check);
    server.child.stderr!.on('data', check);
    void server.exited.then((how) => reject(new Error(`${name} Berth exited (${how}) before it was ready:\n${log}`)));
  });
  await ready;
  const port = Number(/listening on (?:http|uwsgi):\/\/127\.0\.0\.1:(\d+)/.exec(log)![1]);
  return { name, process: server, port, record, log: () => log, tree: () => processTree(server.pid) };
}

/** SIGTERM (graceful: in-flight requests finish, so every app call is recorded), then the exit. */
export async function stopFuzzServer(tracker: Tracker, server: FuzzServer): Promise<string> {
  trySignal(server.process.pid, 'SIGTERM');
  const how = await server.process.exited;
  tracker.remove(server.process.pid);
  return how;
}
