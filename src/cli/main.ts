/**
 * Entry point: `berth [options]` serves, `berth check [options]` validates and imports the app,
 * `berth --stop|--reload|--status <pidfile>` control a running master, `berth top ADDRESS|PIDFILE`
 * watches one, `berth --emperor DIR` runs one Berth per vassal ini, `berth migrate supervisor|nginx FILE`
 * converts a supervisord.conf or an nginx config, `berth systemd-unit` prints a service unit, `berth --help`,
 * `berth help TOPIC`, `--version` and `--python-version` explain.
 * Options are uWSGI's (see docs/configuration.md).
 */
import { readFileSync } from 'node:fs';
import { parseControl, runControl } from './commands/control.js';
import { formatProblem } from '../config/load.js';
import { loadEmperorConfig } from '../config/emperor-config.js';
import { resumeOptimizingCompiler } from '../master/start-up-compiler.js';

// Each command is imported when it runs: a master serving an app never loads the help topics,
// migrate's adapters, top's screen or the emperor, and so does not hold their code in memory
// (docs/benchmarks.md, "Where the master's memory goes").

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function help(topic: string | undefined): Promise<number> {
  if (topic === undefined) {
    const { helpText } = await import('./help.js');
    process.stdout.write(helpText());
    return 0;
  }
  const { helpTopic } = await import('./help-topic.js');
  const found = helpTopic(topic);
  if ('text' in found) {
    process.stdout.write(found.text);
    return 0;
  }
  process.stderr.write(`berth help: ${found.unknown}\n`);
  return 1;
}

/** `berth run …` and plain `berth …` both serve. */
function serveArgvOf(argv: readonly string[]): readonly string[] {
  return argv[0] === 'run' ? argv.slice(1) : argv;
}

/** The command argv names other than serving an app, to run; null when it serves. */
function otherCommand(argv: readonly string[]): (() => Promise<number>) | null {
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') return () => help(argv[1]);
  if (first === '--version' || first === '-V') {
    return async () => {
      process.stdout.write(`berth ${version()}\n`);
      return 0;
    };
  }
  // uWSGI's --python-version prints and exits wherever it stands among the options.
  if (argv.includes('--python-version')) return async () => (await import('./commands/python-version.js')).runPythonVersion(argv.filter((a) => a !== '--python-version'));
  if (first === 'check') return async () => (await import('./commands/check.js')).runCheck(argv.slice(1));
  if (first === 'top') return async () => (await import('./commands/top.js')).runTopCommand(argv.slice(1));
  if (first === 'systemd-unit') return async () => (await import('./commands/systemd-unit.js')).runSystemdUnit(argv.slice(1));
  if (first === 'ctl') return async () => (await import('./commands/ctl.js')).runCtl(argv.slice(1));
  if (parseControl(argv) !== null) return async () => runControl(argv);
  if (first === 'migrate') return async () => (await import('./commands/migrate.js')).runMigrate(argv.slice(1));
  const serveArgv = serveArgvOf(argv);
  // `emperor` (argv, ini or BERTH_EMPEROR) runs vassals instead of serving an app.
  const emperor = loadEmperorConfig({ argv: serveArgv, env: process.env, cwd: process.cwd() });
  if (emperor.kind === 'ok') return async () => (await import('./commands/emperor.js')).runEmperor(emperor.config, emperor.warnings, `berth-${version()}`);
  if (emperor.kind === 'bad') {
    return async () => {
      const n = emperor.problems.length;
      process.stderr.write(`[berth] the emperor configuration has ${n} problem${n === 1 ? '' : 's'}:\n`);
      for (const p of emperor.problems) process.stderr.write(`  - ${formatProblem(p)}\n`);
      process.stderr.write('[berth] nothing was started.\n');
      return 1;
    };
  }
  return null;
}

export async function main(argv: readonly string[]): Promise<number> {
  const other = otherCommand(argv);
  if (other !== null) {
    // Only a serving master holds V8's optimizing compiler until it serves (start-up-compiler.ts).
    resumeOptimizingCompiler();
    return await other();
  }
  return (await import('./commands/run.js')).runServe(serveArgvOf(argv));
}
