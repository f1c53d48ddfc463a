/** A raw HTTP client for the direct-path tests: collects what the server writes, counts the test app's bodies, and names who holds the server end. */
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/** A connection that collects what the server writes; `until(n)` waits for n responses' bodies (lines starting "via="). */
export class Client {
  readonly socket: Socket;
  text = '';
  closed = false;
  readonly #waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (t: string) => {
      this.text += t;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.socket.on('error', () => undefined);
  }

  get bodies(): string[] {
    return this.text.match(/via=\S+ pid=\d+ path=\S+ body=.*/g) ?? [];
  }

  async until(n: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.bodies.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.bodies;
  }

  async write(data: string): Promise<void> {
    await new Promise<void>((resolve) => this.socket.write(data, () => resolve()));
  }

  end(): void {
    this.socket.destroy();
  }
}

/**
 * The processes holding the server end of `client`'s connection to `port` (`ss -tnp`, iproute2:
 * scripts/install-test-deps.sh): e.g. ['python3'] while a worker holds it, ['node'] once the master does.
 */
export function serverEndHolders(port: number, client: Socket): string[] {
  const filter = `( sport = :${port} and dport = :${client.localPort} )`;
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', filter], { encoding: 'utf8' });
  return [...new Set([...out.matchAll(/\("([^"]+)",pid=\d+/g)].map((m) => m[1]!))].sort();
}
