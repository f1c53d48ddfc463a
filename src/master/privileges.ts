/**
 * The master's own privilege drop: started as root (to bind port 80 or chown a socket), it
 * becomes `uid`/`gid` once every listener is bound, before any worker starts, so nothing
 * Berth runs afterwards keeps root. The workers apply the same uid/gid/umask themselves
 * (python/berth_runtime/privileges.py), which also covers a master that was not root to begin
 * with.
 */
import type { Config } from '../config/schema.js';
import { primaryGroupOf } from '../server/accounts.js';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export function dropPrivileges(config: Pick<Config, 'uid' | 'gid'>, log: Log): void {
  if (config.uid === null && config.gid === null) return;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  const id = (v: string): string | number => (/^\d+$/.test(v) ? Number(v) : v);
  try {
    if (config.gid !== null) {
      process.setgroups?.([id(config.gid)]);
      process.setgid?.(id(config.gid));
    }
  } catch (err) {
    throw new Error(`option 'gid': cannot switch the master to group ${config.gid}: ${(err as Error).message} — check that the group exists (getent group ${config.gid})`);
  }
  try {
    if (config.uid !== null) {
      if (config.gid === null) {
        // Like uWSGI with uid alone: the user's primary group.
        const gid = primaryGroupOf(config.uid);
        if (gid !== null) process.setgid?.(gid);
      }
      process.setuid?.(id(config.uid));
    }
  } catch (err) {
    throw new Error(`option 'uid': cannot switch the master to user ${config.uid}: ${(err as Error).message} — check that the user exists (getent passwd ${config.uid})`);
  }
  log('info', `master now runs as uid ${process.getuid()} gid ${process.getgid?.()}`);
}
