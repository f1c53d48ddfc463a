/** `berth migrate supervisor FILE`: print a Berth ini converted from a supervisord.conf on stdout. */
import { migrateSupervisor } from '../../config/adapters/supervisor-migrate.js';
import { BerthError } from '../../errors/berth-error.js';

export function runMigrate(argv: readonly string[]): number {
  const [kind, file, ...rest] = argv;
  if (kind !== 'supervisor' || file === undefined || rest.length > 0) {
    process.stderr.write('usage: berth migrate supervisor FILE   (prints a Berth ini converted from a supervisord.conf)\n');
    return 2;
  }
  try {
    const { text, warnings } = migrateSupervisor(file, process.env);
    for (const w of warnings) process.stderr.write(`[berth] migrate: WARNING: ${w}\n`);
    process.stdout.write(text);
    return 0;
  } catch (err) {
    if (!(err instanceof BerthError)) throw err;
    process.stderr.write(`[berth] migrate: ${err.message}. Fix: give the path of a readable supervisord.conf\n`);
    return 1;
  }
}
