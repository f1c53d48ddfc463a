/** A peer server (uWSGI, gunicorn…) started by a test: its output kept, SIGTERM then SIGKILL after 10 s at stop. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface PeerProcess {
  readonly proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export function spawnPeer(bin: string, args: readonly string[], cwd: string): PeerProcess {
  const proc = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.setEncoding('utf8').on('data', (t: string) => void (log += t));
  proc.stderr!.setEncoding('utf8').on('data', (t: string) => void (log += t));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
  };
  return { proc, log: () => log, stop };
}
