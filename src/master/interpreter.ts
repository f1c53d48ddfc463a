/**
 * Picks the Python interpreter the workers run under: the virtualenv's (`home`), else the
 * `python` option, else `python3` on PATH — the same interpreter the user's packages were
 * installed for, so uWSGI's "built against another Python" failure cannot happen.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { BerthError } from '../errors/berth-error.js';

export interface Interpreter {
  readonly path: string;
  /** Why this one, for the start-up line. */
  readonly chosenBy: string;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(name: string, pathEnv: string | undefined): string | null {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

export function resolveInterpreter(config: Config, pathEnv: string | undefined): Interpreter {
  if (config.home !== null) {
    for (const name of ['python3', 'python']) {
      const p = join(config.home, 'bin', name);
      if (isExecutableFile(p)) return { path: p, chosenBy: `home = ${config.home}` };
    }
    throw new BerthError(
      'BERTH_PYTHON_NOT_FOUND',
      `option 'home': ${config.home} has no bin/python3 or bin/python — point 'home' at a virtualenv (created with 'python3 -m venv ${config.home}') or use 'python = /path/to/python3'`,
    );
  }
  if (config.python !== null) {
    const p = config.python.includes('/') ? config.python : searchPath(config.python, pathEnv);
    if (p !== null && isExecutableFile(p)) return { path: p, chosenBy: `python = ${config.python}` };
    const why = p !== null && existsSync(p) ? 'is not an executable file' : 'was not found';
    throw new BerthError('BERTH_PYTHON_NOT_FOUND', `option 'python': ${config.python} ${why} — give the full path of an interpreter, e.g. 'python = /usr/bin/python3'`);
  }
  const p = searchPath('python3', pathEnv);
  if (p === null) {
    throw new BerthError('BERTH_PYTHON_NOT_FOUND', `no 'python3' on PATH — install Python 3.8+ or name one with 'python = /path/to/python3' or 'home = /path/to/venv'`);
  }
  return { path: p, chosenBy: 'python3 on PATH' };
}
