/**
 * A real MariaDB server (Debian mariadb-server) run by a test inside one namespace host of a
 * test network: its own data dir, socket and log in a temp dir, nothing of /etc/mysql or
 * /var/lib/mysql read or written (--no-defaults), started and stopped by the test.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Network } from './netns.js';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const CLIENT = '/usr/bin/mariadb';

export interface Database {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  readonly password: string;
}

export interface RunningMariadb {
  readonly db: Database;
  errorLog(): string;
  stop(): Promise<void>;
}

/** Fails loudly, naming the packages, when MariaDB is not installed (never a skip). */
export function requireMariadb(): void {
  for (const f of [MARIADBD, INSTALL_DB, CLIENT]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: install mariadb-server (sudo bash scripts/install-test-deps.sh)`);
  }
}

/**
 * Initialises a data dir under `dir`, starts mariadbd on `ip`:`port` in `host`'s namespace and
 * creates database `db.name` with a user that may connect from any 127.0.10.x host.
 */
export async function startMariadb(net: Network, host: string, dir: string, db: Database): Promise<RunningMariadb> {
  requireMariadb();
  const data = join(dir, 'data');
  const sock = join(dir, 'mysqld.sock');
  const log = join(dir, 'mysqld.err');
  mkdirSync(data, { recursive: true });
  net.run(host, [INSTALL_DB, '--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db']);
  const proc: ChildProcess = net.spawn(host, [
    MARIADBD, '--no-defaults', `--datadir=${data}`, `--socket=${sock}`, `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--log-error=${log}`, `--bind-address=${db.host}`, `--port=${db.port}`, '--user=root',
    // No DNS inside the namespaces: a reverse lookup of each client address would stall logins.
    '--skip-name-resolve', '--innodb-buffer-pool-size=32M',
  ]);
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
  proc.stderr!.setEncoding('utf8').on('data', (t: string) => (out += t));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  const errorLog = (): string => {
    try {
      return readFileSync(log, 'utf8') + out;
    } catch {
      return out;
    }
  };
  const stop = async (): Promise<void> => {
    if (dead) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const sql = (statements: string): string => net.run(host, [CLIENT, '--no-defaults', `--socket=${sock}`, '-u', 'root', '-e', statements]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (dead) throw new Error(`mariadbd exited at start-up:\n${errorLog()}`);
    try {
      sql('SELECT 1');
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`mariadbd did not answer on ${sock} within 30 s: ${(err as Error).message}\n${errorLog()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const user = `'${db.user}'@'127.0.10.%'`;
  sql(`CREATE DATABASE ${db.name} CHARACTER SET utf8mb4; CREATE USER ${user} IDENTIFIED BY '${db.password}'; GRANT ALL ON ${db.name}.* TO ${user};`);
  return { db, errorLog, stop };
}
