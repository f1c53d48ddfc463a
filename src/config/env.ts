/**
 * Environment reader: BERTH_<OPTION> (upper case, '-' → '_'), e.g. BERTH_PROCESSES=4,
 * BERTH_HTTP=:8000, BERTH_BUFFER_SIZE=64k. The environment is the lowest layer above the
 * defaults. It is shared with everything else on the machine, so an unknown BERTH_ name is
 * only a warning, and only when it is close to a real option (a likely typo); BERTH_WORKER_*
 * (master → worker) and BERTH_VASSAL_* (emperor → vassal) are Berth's own and are skipped.
 */
import { findOption, suggestOption } from './options.js';
import type { Problem } from './problem.js';
import { envNameFor, type Setting } from './setting.js';

const PREFIX = 'BERTH_';
const INTERNAL = /^BERTH_(?:WORKER|VASSAL)_/;

export interface EnvResult { readonly settings: Setting[]; readonly warnings: Problem[] }

export function readEnv(env: Readonly<Record<string, string | undefined>>): EnvResult {
  const settings: Setting[] = [];
  const warnings: Problem[] = [];
  // Sorted so that the same environment always loads the same way.
  for (const key of Object.keys(env).sort()) {
    const value = env[key];
    if (!key.startsWith(PREFIX) || INTERNAL.test(key) || value === undefined || value === '') continue;
    const name = key.slice(PREFIX.length).toLowerCase().replace(/_/g, '-');
    const where = `environment variable ${key}`;
    if (findOption(name) !== undefined) {
      settings.push({ name, written: key, value, source: { kind: 'env', envName: key } });
      continue;
    }
    const near = suggestOption(name);
    if (near !== undefined) {
      warnings.push({ code: 'unknown-env-option', option: key, where, message: `${key} is not a Berth option and is ignored`, fix: `did you mean ${envNameFor(near)}?` });
    }
  }
  return { settings, warnings };
}
