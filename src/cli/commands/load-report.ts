/** Prints a configuration load's warnings and problems, and builds the access log a config asks for. */
import type { LoadResult } from '../../config/load.js';
import { formatProblem } from '../../config/problem.js';
import type { Config } from '../../config/schema.js';
import { AccessLog } from '../../log/access-log.js';

/** The config of `result`, after its warnings; null (with every problem printed) when it has problems. */
export function reportLoad(result: LoadResult, command: string): Config | null {
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

export function accessLogFor(config: Config): AccessLog {
  return new AccessLog({
    format: config.logFormat,
    json: config.logJson,
    disableLogging: config.disableLogging,
    log4xx: config.log4xx,
    log5xx: config.log5xx,
    slowMs: config.logSlowMs,
  });
}
