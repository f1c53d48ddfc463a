/** Loads the configuration for a command and prints warnings and problems the same way everywhere. */
import { readFileSync } from 'node:fs';
import { loadConfig, formatProblem, type LoadResult } from '../../config/load.js';
import { checkDeployment } from '../../config/deployment-checks.js';
import type { Config } from '../../config/schema.js';
import { AccessLog } from '../../log/access-log.js';
import { compileLogFormat, unknownLogVariableMessage } from '../../log/log-format.js';

/**
 * The config layer is a leaf, so the log-format variable table is handed to it from here; then
 * the config is checked against where it runs (deployment-checks.ts).
 */
export function load(argv: readonly string[], cwd: string): LoadResult {
  const result = loadConfig({ argv, env: process.env, cwd, checkLogFormat: (format) => compileLogFormat(format).unknown.map(unknownLogVariableMessage) });
  if (!result.ok) return result;
  // Where this process runs (a supervisor, root) is a question for the command, not the config layer.
  const deployment = checkDeployment(result.config, { env: process.env, uid: process.geteuid?.() ?? null, somaxconn: readSomaxconn() });
  const warnings = [...result.warnings, ...deployment.warnings];
  return deployment.problems.length > 0 ? { ok: false, problems: deployment.problems, warnings } : { ...result, warnings };
}

/** The kernel's cap on listen backlogs, or null where there is no such file (not Linux). */
function readSomaxconn(): number | null {
  try {
    const n = Number(readFileSync('/proc/sys/net/core/somaxconn', 'latin1').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export function loadOrReport(argv: readonly string[], command: string): Config | null {
  const result = load(argv, process.cwd());
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

/** For a reload: the configuration read again from the same arguments, or its problems as lines. */
export function reloadConfig(argv: readonly string[], cwd: string): Config | readonly string[] {
  const result = load(argv, cwd);
  return result.ok ? result.config : result.problems.map(formatProblem);
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
