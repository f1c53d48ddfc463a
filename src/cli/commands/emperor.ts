/** `berth --emperor DIR` (or `emperor = DIR` in an ini): run one Berth per vassal ini until stopped. */
import { formatProblem, type Problem } from '../../config/load.js';
import type { EmperorConfig } from '../../config/emperor-config.js';
import { Logger, stderrSink, surviveClosedStdio } from '../../log/logger.js';
import { Emperor } from '../../supervise/emperor.js';
import { EmperorControl } from '../../supervise/emperor-control.js';
import { serveEmperorStats } from '../../supervise/emperor-stats.js';

export async function runEmperor(config: EmperorConfig, warnings: readonly Problem[], version: string): Promise<number> {
  surviveClosedStdio();
  for (const w of warnings) process.stderr.write(`[berth] WARNING: ${formatProblem(w)}\n`);
  const logger = new Logger(stderrSink());
  const log = (level: 'info' | 'warn' | 'error', message: string): void => logger[level](message);
  const script = process.argv[1];
  if (script === undefined) throw new Error('berth: cannot tell which script to run for the vassals');
  const emperor = new Emperor({
    settings: config, cwd: process.cwd(), berth: [process.execPath, script], env: process.env, log,
    // Each vassal's own lines, prefixed with its name; a vassal with logto writes its own file instead.
    output: (name, line) => process.stderr.write(`[vassal ${name}] ${line}\n`),
  });
  try {
    emperor.start();
  } catch (err) {
    process.stderr.write(`[berth] ERROR: option 'emperor' (${config.origin}): cannot read the vassal directory ${emperor.directory}: ${(err as Error).message}. Fix: create it, or point emperor at the directory holding the vassal inis\n[berth] nothing was started\n`);
    return 1;
  }
  log('info', `[emperor] watching ${emperor.directory} for vassals (${config.emperor}), pid ${process.pid}`);
  const stats = config.stats === null ? null : await serveEmperorStats(config.stats, { version, monitor: config.emperor, vassals: () => emperor.facts() }).catch((err: Error) => {
    log('error', `option 'emperor-stats' (${config.stats?.text ?? ''}): cannot listen: ${err.message}. Fix: choose a free address`);
    return null;
  });
  if (stats !== null) log('info', `[emperor] stats server on ${config.stats?.text ?? ''}`);
  const control = config.ctlSocket === null ? null : new EmperorControl(config.ctlSocket, emperor, log);
  if (control !== null) {
    await control.listen().then(
      () => log('info', `[emperor] berth ctl: control socket ${config.ctlSocket ?? ''} (mode 600)`),
      (err: Error) => log('error', `option 'ctl-socket' (${config.ctlSocket ?? ''}): ${err.message}; berth ctl cannot reach this emperor`));
  }
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log('info', `[emperor] ${signal}: stopping every vassal gracefully`);
      void emperor.stop(`the emperor got ${signal}`).then(() => {
        stats?.close();
        control?.close();
        for (const s of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'] as const) process.removeAllListeners(s);
        log('info', '[emperor] stopped: every vassal has exited');
        resolve(0);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGQUIT', stop);
    process.on('SIGHUP', () => { log('info', '[emperor] SIGHUP: reloading every vassal'); emperor.reloadAll(); });
  });
}
