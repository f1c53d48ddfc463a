/**
 * The master's own privilege drop: started as root (to bind port 80 or chown a socket), it
 * becomes `uid`/`gid` once every listener is bound, before any worker starts, so nothing
 * Berth runs afterwards keeps root. The workers apply the same uid/gid/umask themselves
 * (python/berth_worker.py), which also covers a master that was not root to begin with.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';

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

/** The fields of the /etc/passwd or /etc/group entry named `key` (or whose id is `key`), or null. */
function accountEntry(file: '/etc/passwd' | '/etc/group', key: string): string[] | null {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === key || f[2] === key) return f;
    }
  } catch {
    // no such file: names cannot be resolved here
  }
  return null;
}

/** A numeric id, or the id of a name in /etc/passwd or /etc/group (null if not found). */
export function numericId(value: string, file: '/etc/passwd' | '/etc/group'): number | null {
  if (/^\d+$/.test(value)) return Number(value);
  const id = accountEntry(file, value)?.[2];
  return id !== undefined && /^\d+$/.test(id) ? Number(id) : null;
}

/** A user's primary group id (/etc/passwd), or null: keep the current group. */
function primaryGroupOf(user: string): number | null {
  const f = accountEntry('/etc/passwd', user);
  return f === null ? null : Number(f[3]);
}
