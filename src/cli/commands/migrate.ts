/** `berth migrate supervisor|nginx FILE`: print a Berth ini converted from a supervisord.conf or an nginx config on stdout. */
import { migrateSupervisor } from '../../config/adapters/supervisor-migrate.js';
import { migrateNginx } from '../../config/adapters/nginx-migrate.js';
import { BerthError } from '../../errors/berth-error.js';

const USAGE = [
  'usage: berth migrate supervisor FILE   (prints a Berth ini converted from a supervisord.conf)',
  '       berth migrate nginx FILE        (prints a Berth ini converted from an nginx config: server blocks and their upstreams)',
].join('\n');

export function runMigrate(argv: readonly string[]): number {
  const [kind, file, ...rest] = argv;
  if ((kind !== 'supervisor' && kind !== 'nginx') || file === undefined || rest.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const { text, warnings } = kind === 'nginx' ? migrateNginx(file) : migrateSupervisor(file, process.env);
    for (const w of warnings) process.stderr.write(`[berth] migrate: WARNING: ${w}\n`);
    process.stdout.write(text);
    return 0;
  } catch (err) {
    if (!(err instanceof BerthError)) throw err;
    const fix = kind === 'nginx' ? 'give the path of a readable nginx config with valid syntax' : 'give the path of a readable supervisord.conf';
    process.stderr.write(`[berth] migrate: ${err.message}${err.message.includes('Fix:') ? '' : `. Fix: ${fix}`}\n`);
    return 1;
  }
}
