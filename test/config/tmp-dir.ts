/** Temporary project trees for config tests; each test removes what it made. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Create a temp dir with the given files (path → content; a trailing '/' makes a directory). */
export function makeTree(files: Readonly<Record<string, string>> = {}): { dir: string; remove: () => void } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-config-')));
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel);
    if (rel.endsWith('/')) {
      fs.mkdirSync(full, { recursive: true });
    } else {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, content);
    }
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
