/** Loads the configuration for a command and prints warnings and problems the same way everywhere. */
import { loadConfig, formatProblem } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { describeSource } from '../../config/problem.js';
import { AccessLog } from '../../log/access-log.js';
import { compileLogFormat, unknownLogVariableMessage } from '../../log/log-format.js';

/**
 * Checks the config needs from modules the config layer must not import (config is a leaf):
 * today the log-format variables, whose table lives with the access log.
 */
function laterProblems(config: Config): string[] {
  if (config.logFormat === null) return [];
  const where = config.sources['log-format'];
  return compileLogFormat(config.logFormat).unknown.map((name) => `${unknownLogVariableMessage(name)}${where !== undefined ? ` (${describeSource(where)})` : ''}`);
}

export function loadOrReport(argv: readonly string[], command: string): Config | null {
  const result = loadConfig({ argv, env: process.env, cwd: process.cwd() });
  for (const w of result.warnings) process.stderr.write(`[berth] WARNING: ${formatProblem(w)}\n`);
  const problems = result.ok ? laterProblems(result.config) : result.problems.map(formatProblem);
  if (problems.length > 0) {
    const n = problems.length;
    process.stderr.write(`[berth] ${command}: the configuration has ${n} problem${n === 1 ? '' : 's'}:\n`);
    for (const p of problems) process.stderr.write(`  - ${p}\n`);
    process.stderr.write(`[berth] nothing was started. Run 'berth --help' for the options, or 'berth check …' to test a fix.\n`);
    return null;
  }
  return result.ok ? result.config : null;
}

/** For a reload: the configuration read again from the same arguments, or its problems as lines. */
export function reloadConfig(argv: readonly string[], cwd: string): Config | readonly string[] {
  const result = loadConfig({ argv, env: process.env, cwd });
  if (!result.ok) return result.problems.map(formatProblem);
  const problems = laterProblems(result.config);
  return problems.length > 0 ? problems : result.config;
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
