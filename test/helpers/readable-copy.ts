/**
 * A copy of parts of the repository that any user can read. Tests that run something as nobody
 * need it: a clone may sit in a directory only root can enter (mktemp -d is 0700), as CI's does.
 */
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './berth.js';

export interface ReadableCopy {
  readonly dir: string;
  /** The copied path of a repository-relative path. */
  path(part: string): string;
  remove(): void;
}

export function readableCopy(parts: readonly string[]): ReadableCopy {
  const dir = mkdtempSync(join(tmpdir(), 'berth-readable-'));
  chmodSync(dir, 0o755);
  for (const part of parts) cpSync(join(REPO, part), join(dir, part), { recursive: true });
  return { dir, path: (part) => join(dir, part), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
