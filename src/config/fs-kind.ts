/**
 * What a configured path names on disk, for the checks of validate.ts, operations.ts and
 * static-values.ts: they run once at load time, so a plain statSync is enough.
 */
import fs from 'node:fs';
import path from 'node:path';

export type Kind = 'file' | 'dir' | 'missing' | 'other';

export function kindOf(p: string): Kind {
  try {
    const st = fs.statSync(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * A file Berth writes (log, pidfile), given as an absolute path: its directory must exist and it
 * must not be a directory itself. Returns the problem, or null. `elsewhere` ends the fix for a
 * missing directory ("create /x or …"), `inside` is the fix when the path is a directory.
 */
export function writableFileProblem(p: string, written: string, elsewhere: string, inside: string): { code: string; message: string; fix: string } | null {
  const dir = path.dirname(p);
  if (kindOf(dir) !== 'dir') return { code: 'no-such-directory', message: `the directory of ${written} ${p} does not exist`, fix: `create ${dir} or ${elsewhere}` };
  if (kindOf(p) === 'dir') return { code: 'not-a-file', message: `${written} ${p} is a directory`, fix: inside };
  return null;
}

/** statfs f_type of filesystems whose directories take no new regular files (linux/magic.h). */
const VIRTUAL_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'], [0x73636673, 'securityfs'], [0x1cd1, 'devpts'], [0x74726163, 'tracefs'],
]);

function virtualFilesystemOf(dir: string): string | null {
  try {
    return VIRTUAL_FILESYSTEMS.get(Number(fs.statfsSync(dir).type)) ?? null;
  } catch {
    return null;
  }
}

/**
 * Why creating or writing the file `p` failed with `err`, and what to do: "<reason> — <fix>".
 * Done at the moment of failure, so it says what is really wrong (ENOENT from /proc means a
 * virtual filesystem, not a missing directory).
 */
export function explainWriteFailure(p: string, err: NodeJS.ErrnoException): string {
  const dir = path.dirname(p);
  const elsewhere = 'choose a path on a writable disk filesystem (e.g. /run/<site>/, created by systemd RuntimeDirectory=, or /var/tmp)';
  const fsType = virtualFilesystemOf(dir);
  if (fsType !== null) return `${dir} is on the virtual filesystem ${fsType}, where files cannot be created — ${elsewhere}`;
  switch (err.code) {
    case 'ENOENT':
      return kindOf(dir) === 'dir'
        ? `${dir} exists but the kernel refuses to create files there (${err.message}) — ${elsewhere}`
        : `the directory ${dir} does not exist — create it (mkdir -p ${dir}) or choose another path`;
    case 'EROFS':
      return `${dir} is on a read-only filesystem — ${elsewhere}`;
    case 'EACCES':
    case 'EPERM': {
      const who = typeof process.getuid === 'function' ? `uid ${process.getuid()}` : "Berth's user";
      return `permission denied: ${who} cannot write to ${dir} — give it write access, or use a directory it owns, e.g. /run/<site>/ created by systemd RuntimeDirectory=`;
    }
    case 'EISDIR':
      return `${p} is a directory — name a file inside it`;
    case 'ENOTDIR':
      return `a part of ${dir} is a file, not a directory — choose another path`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `the filesystem of ${dir} is full (${err.code}) — free space or choose another path`;
    default:
      return `${err.message} — check the path and its directory`;
  }
}
