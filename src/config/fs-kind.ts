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
