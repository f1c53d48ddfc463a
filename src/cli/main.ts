/**
 * Entry point: `berth [options]` serves, `berth check [options]` validates and imports the app,
 * `berth --stop|--reload|--status <pidfile>` control a running master, `berth top ADDRESS|PIDFILE`
 * watches one, `berth --emperor DIR` runs one Berth per vassal ini, `berth migrate supervisor|nginx FILE`
 * converts a supervisord.conf or an nginx config, `berth systemd-unit` prints a service unit, `berth --help`,
 * `berth help TOPIC`, `--version` and `--python-version` explain.
 * Options are uWSGI's (see docs/configuration.md).
 */
import { readFileSync } from 'node:fs';
import { helpText } from './help.js';
import { helpTopic } from './help-topic.js';
import { runServe } from './commands/run.js';
import { runCheck } from './commands/check.js';
import { parseControl, runControl } from './commands/control.js';
import { runTopCommand } from './commands/top.js';
import { runCtl } from './commands/ctl.js';
import { runPythonVersion } from './commands/python-version.js';
import { runEmperor } from './commands/emperor.js';
import { runMigrate } from './commands/migrate.js';
import { formatProblem } from '../config/load.js';
import { loadEmperorConfig } from '../config/emperor-config.js';
import { runSystemdUnit } from './commands/systemd-unit.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function help(topic: string | undefined): number {
  if (topic === undefined) {
    process.stdout.write(helpText());
    return 0;
  }
  const found = helpTopic(topic);
  if ('text' in found) {
    process.stdout.write(found.text);
    return 0;
  }
  process.stderr.write(`berth help: ${found.unknown}\n`);
  return 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') return help(argv[1]);
  if (first === '--version' || first === '-V') {
    process.stdout.write(`berth ${version()}\n`);
    return 0;
  }
  // uWSGI's --python-version prints and exits wherever it stands among the options.
  if (argv.includes('--python-version')) return runPythonVersion(argv.filter((a) => a !== '--python-version'));
  if (first === 'check') return runCheck(argv.slice(1));
  if (first === 'top') return runTopCommand(argv.slice(1));
  if (first === 'systemd-unit') return runSystemdUnit(argv.slice(1));
  if (first === 'ctl') return runCtl(argv.slice(1));
  if (parseControl(argv) !== null) return runControl(argv);
  if (first === 'migrate') return runMigrate(argv.slice(1));
  const serveArgv = first === 'run' ? argv.slice(1) : argv;
  // `emperor` (argv, ini or BERTH_EMPEROR) runs vassals instead of serving an app.
  const emperor = loadEmperorConfig({ argv: serveArgv, env: process.env, cwd: process.cwd() });
  if (emperor.kind === 'ok') return runEmperor(emperor.config, emperor.warnings, `berth-${version()}`);
  if (emperor.kind === 'bad') {
    const n = emperor.problems.length;
    process.stderr.write(`[berth] the emperor configuration has ${n} problem${n === 1 ? '' : 's'}:\n`);
    for (const p of emperor.problems) process.stderr.write(`  - ${formatProblem(p)}\n`);
    process.stderr.write('[berth] nothing was started.\n');
    return 1;
  }
  return runServe(serveArgv);
}
