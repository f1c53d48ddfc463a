/** `berth --python-version [options]`: print the Python version the workers would run, as uWSGI's flag does. */
import { formatProblem, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { BerthError } from '../../errors/berth-error.js';
import { resolveInterpreter } from '../../master/interpreter.js';
import { interpreterVersion } from '../../master/python-version.js';

/** Problems that do not matter for choosing an interpreter: nothing is served. */
const IRRELEVANT = new Set(['no-listener', 'no-app']);
/** Stand-ins for a listener and an app, never bound nor imported, so the rest can be checked. */
const STAND_INS = ['--http', '127.0.0.1:0', '--module', 'berth_python_version_probe'];

/** The other options choose the interpreter (home, python, or python3 on PATH), so they are loaded first. */
export async function runPythonVersion(argv: readonly string[]): Promise<number> {
  const load = (words: readonly string[]) => loadConfig({ argv: words, env: process.env, cwd: process.cwd() });
  let result = load(argv);
  if (!result.ok && result.problems.every((p) => IRRELEVANT.has(p.code))) result = load([...argv, ...STAND_INS]);
  if (!result.ok) {
    const relevant = result.problems.filter((p) => !IRRELEVANT.has(p.code));
    for (const p of relevant.length > 0 ? relevant : result.problems) process.stderr.write(`[berth] --python-version: ${formatProblem(p)}\n`);
    return 1;
  }
  const config: Config = result.config;
  try {
    const interpreter = resolveInterpreter(config, process.env.PATH);
    process.stdout.write(`Python version: ${interpreterVersion(interpreter)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`[berth] ${err instanceof BerthError ? err.message : (err as Error).message}\n`);
    return 1;
  }
}
