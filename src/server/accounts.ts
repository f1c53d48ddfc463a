/**
 * User and group names → ids, from /etc/passwd and /etc/group, for chown-socket (here) and for
 * uid/gid (master/privileges.ts, the channel socket). Node has no getpwnam; a missing file
 * means names cannot be resolved, never an exception.
 */
import { readFileSync } from 'node:fs';

export type AccountFile = '/etc/passwd' | '/etc/group';

/** The fields of the line whose name (or numeric id) is `key`, or null. */
function accountEntry(file: AccountFile, key: string): string[] | null {
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
export function numericId(value: string, file: AccountFile): number | null {
  if (/^\d+$/.test(value)) return Number(value);
  const id = accountEntry(file, value)?.[2];
  return id !== undefined && /^\d+$/.test(id) ? Number(id) : null;
}

/** A user's primary group id (/etc/passwd), or null. */
export function primaryGroupOf(user: string): number | null {
  const f = accountEntry('/etc/passwd', user);
  return f === null || !/^\d+$/.test(f[3] ?? '') ? null : Number(f[3]);
}
