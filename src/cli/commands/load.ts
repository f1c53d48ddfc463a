/** Loads the configuration for a command and prints warnings and problems the same way everywhere. */
import { loadConfig, formatProblem } from '../../config/load.js';
import type { Config } from '../../config/schema.js';

export function loadOrReport(argv: readonly string[], command: string): Config | null {
  const result = loadConfig({ argv, env: process.env, cwd: process.cwd() });
  for (const w of result.warnings) process.stderr.write(`[berth] WARNING: ${formatProblem(w)}\n`);
  if (!result.ok) {
    const n = result.problems.length;
    process.stderr.write(`[berth] ${command}: the configuration has ${n} problem${n === 1 ? '' : 's'}:\n`);
    for (const p of result.problems) process.stderr.write(`  - ${formatProblem(p)}\n`);
    process.stderr.write(`[berth] nothing was started. Run 'berth --help' for the options, or 'berth check …' to test a fix.\n`);
    return null;
  }
  return result.config;
}
