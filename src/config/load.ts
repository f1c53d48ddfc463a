/**
 * The configuration loader: argv + environment + ini files → a frozen Config, or every
 * problem found, each with the option as written, where it was written and how to fix it.
 *
 * Layers, lowest first: the table's defaults, BERTH_* environment variables, then the command
 * line with its --ini files expanded in place (so later options win, as in uWSGI).
 */
import { readArgv } from './argv.js';
import { readEnv } from './env.js';
import { SettingResolver } from './ini/resolve.js';
import { mapSettings } from './map.js';
import type { LogFormatCheck } from './operations.js';
import type { Problem } from './problem.js';
import type { Config } from './schema.js';
import { buildConfig } from './validate.js';

export type { Problem } from './problem.js';
export { formatProblem } from './problem.js';
export { describeConfig } from './describe.js';

export type LoadResult =
  | { ok: true; config: Config; warnings: Problem[] }
  | { ok: false; problems: Problem[]; warnings: Problem[] };

export interface LoadInput {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Checks log-format's variables (the table lives in log/, which config must not import); the CLI passes it. */
  readonly checkLogFormat?: LogFormatCheck;
}

export function loadConfig(input: LoadInput): LoadResult {
  const argv = readArgv(input.argv);
  const env = readEnv(input.env);
  const resolver = new SettingResolver({ cwd: input.cwd, env: input.env });
  const envLayer = resolver.resolve(env.settings);
  const argvLayer = resolver.resolve(argv.settings);
  const mapped = mapSettings([envLayer, argvLayer], input.cwd);
  const built = buildConfig(mapped, input.cwd, input.checkLogFormat, { sections: resolver.programSections, env: input.env });
  // A supervisord.conf given to --ini has no listener and no app, of course: said once, as what it is.
  const notUwsgi = resolver.problems.some((p) => p.code === 'supervisor-config');
  const consequences = notUwsgi ? built.problems.filter((p) => p.code !== 'no-listener' && p.code !== 'no-app') : built.problems;
  const problems = [...argv.problems, ...resolver.problems, ...mapped.problems, ...consequences];
  const warnings = [...env.warnings, ...resolver.warnings, ...mapped.warnings, ...built.warnings];
  if (problems.length > 0 || built.config === null) return { ok: false, problems, warnings };
  return { ok: true, config: built.config, warnings };
}
