/** Finds the emperor's vassal files: every *.ini in a directory, or the files a glob's last part matches. */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface VassalFile {
  /** The file's name, the vassal's id in logs and stats (uWSGI's emperor uses the same). */
  readonly name: string;
  readonly path: string;
  readonly mtimeMs: number;
}

export interface VassalPattern {
  /** The one directory watched and scanned. */
  readonly dir: string;
  readonly matches: (name: string) => boolean;
}

/** `/etc/berth/vassals` (its *.ini files) or `/etc/berth/vassals/*.ini` (a glob in the file name only). */
export function vassalPattern(emperor: string, cwd: string): VassalPattern {
  const full = path.resolve(cwd, emperor);
  if (!/[*?[]/.test(path.basename(full))) return { dir: full, matches: (name) => name.endsWith('.ini') };
  const re = new RegExp(`^${path.basename(full).replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return { dir: path.dirname(full), matches: (name) => re.test(name) };
}

/** The vassal files present now, by name; hidden files (editors' swap files) are skipped. */
export function scanVassals(pattern: VassalPattern): Map<string, VassalFile> {
  const found = new Map<string, VassalFile>();
  for (const name of readdirSync(pattern.dir)) {
    if (name.startsWith('.') || !pattern.matches(name)) continue;
    const file = path.join(pattern.dir, name);
    try {
      const st = statSync(file);
      if (st.isFile()) found.set(name, { name, path: file, mtimeMs: st.mtimeMs });
    } catch {
      // Removed between readdir and stat: the next scan sees it gone.
    }
  }
  return found;
}
