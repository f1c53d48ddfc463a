/** A Front on a loopback port 0 with no worker at all, for the router tests; stopped with the test. */
import { withStagesFor } from '../../src/router/stage-modules.js';
import type test from 'node:test';
import net from 'node:net';
import { Front, type AccessLogger } from '../../src/router/front.js';
import { WorkerPool } from '../../src/worker/pool.js';
import type { Config } from '../../src/config/schema.js';

export async function startFront(
  t: test.TestContext, config: Config, lines: string[], accessLog: (c: Config) => AccessLogger,
): Promise<{ front: Front; port: number }> {
  const front = new Front({ config, pool: new WorkerPool(), accessLog, line: (text) => lines.push(text), log: () => undefined, stages: await withStagesFor(config) });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    front.accept(s, { via: 'http', display: 'test', unix: false });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return { front, port: (server.address() as net.AddressInfo).port };
}
