/**
 * Entry point: `berth [options]` serves, `berth check [options]` validates and imports the app,
 * `berth --stop|--reload|--status <pidfile>` control a running master, `berth top ADDRESS|PIDFILE`
 * watches one, `berth --help` / `--version` explain. Options are uWSGI's (see docs/configuration.md).
 */
import { readFileSync } from 'node:fs';
import { helpText } from './help.js';
import { runServe } from './commands/run.js';
import { runCheck } from './commands/check.js';
import { parseControl, runControl } from './commands/control.js';
import { runTopCommand } from './commands/top.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`berth ${version()}\n`);
    return 0;
  }
  if (first === 'check') return runCheck(argv.slice(1));
  if (first === 'top') return runTopCommand(argv.slice(1));
  if (parseControl(argv) !== null) return runControl(argv);
  if (first === 'run') return runServe(argv.slice(1));
  return runServe(argv);
}
