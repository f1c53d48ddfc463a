/** `berth [options]`: serve until stopped (in the background with daemonize/daemonize2). */
import { Logger, fileSink, stderrSink, surviveClosedStdio } from '../../log/logger.js';
import { Arbiter } from '../../master/arbiter.js';
import { resolveInterpreter } from '../../master/interpreter.js';
import { warnAboutPluginVersions } from '../../master/python-version.js';
import { daemonizeIfAsked } from '../../master/daemon.js';
import { InstanceControl } from '../../master/instance.js';
import { keepYoungGenerationSmall } from '../../master/young-generation.js';
import { resumeOptimizingCompiler, withoutOptimizing } from '../../master/start-up-compiler.js';
import { BerthError } from '../../errors/berth-error.js';
import { explainWriteFailure } from '../../config/fs-kind.js';
import { describeSource } from '../../config/problem.js';
import { withStagesFor } from '../../router/stage-modules.js';
import { accessLogFor, loadOrReport, reloadConfig } from './load.js';
import { readFileSync } from 'node:fs';
import type { StatsService } from '../../stats/stats-server.js';
import { joinEmperor } from '../../supervise/emperor-pipe.js';
import { SystemdNotifier, takeNotifyEnvironment } from '../../master/sd-notify.js';
import { takeListenFds } from '../../master/socket-activation.js';
import type { SideProgramsService } from '../../supervise/side-programs.js';
import type { WebFacts } from '../../supervise/control-server.js';

function berthVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `berth-${pkg.version}`;
}

export async function runServe(argv: readonly string[]): Promise<number> {
  keepYoungGenerationSmall();
  surviveClosedStdio();
  const config = loadOrReport(argv, 'berth');
  if (config === null) return 1;
  // Taken out of the environment before anything is spawned: only the master talks to systemd.
  const notifyTarget = takeNotifyEnvironment(process.env, process.pid);
  const inherited = takeListenFds(process.env, process.pid);
  // With daemonize, this (foreground) process only starts the daemon and reports how it went.
  const foreground = await daemonizeIfAsked(config, argv);
  if (foreground !== null) return foreground;
  // "line 4 of /etc/site.ini": runtime refusals name the option and where it was set.
  const origin = (option: string): string => describeSource(config.sources[option] ?? { kind: 'default' });
  const instance = new InstanceControl({ ...config, origin });
  const logto = instance.logFile;
  const option = config.logto !== null ? 'logto' : config.daemonize2 !== null ? 'daemonize2' : 'daemonize';
  // umask first: the log, the pidfile and the unix sockets are created with it.
  if (config.umask !== null) process.umask(config.umask);
  // The pidfile before the log: a second start refused here must leave no line in the log file,
  // which (same logto) is the running instance's. What claim says is held until the log is open.
  const claimNotes: [level: 'info' | 'warn', message: string][] = [];
  try {
    instance.claim((level, message) => claimNotes.push([level, message]));
  } catch (err) {
    const message = err instanceof BerthError ? err.message : String(err);
    // A daemon child's stderr is the log file; its foreground process prints the message instead.
    if (instance.isDaemonChild) instance.failed(message);
    else process.stderr.write(`[berth] ERROR: ${message}\n[berth] nothing was started\n`);
    return 1;
  }
  let logger: Logger;
  try {
    const rotation = { maxBytes: config.logMaxsizeBytes, backupName: config.logBackupname, backups: config.logBackups, setting: `option '${option}' (${origin(option)})` };
    logger = new Logger(logto !== null ? fileSink(logto, rotation) : stderrSink());
  } catch (err) {
    process.stderr.write(`[berth] ERROR: option '${option}' (${origin(option)}): cannot open the log file ${logto}: ${explainWriteFailure(logto ?? '', err as NodeJS.ErrnoException)}\n`);
    instance.finish(1, () => undefined);
    return 1;
  }
  let code: number;
  let arbiter: Arbiter | undefined;
  const log = (level: 'info' | 'warn' | 'error', message: string): void => logger[level](message);
  try {
    for (const [level, message] of claimNotes) log(level, message);
    const interpreter = resolveInterpreter(config, process.env.PATH);
    warnAboutPluginVersions(config, interpreter, (message) => log('warn', message));
    const cwd = process.cwd();
    const own = instance.hooks(() => arbiter?.boundListeners.map((l) => l.display).join(', ') ?? '', log);
    // A vassal reports to its emperor, and stops when the emperor is gone.
    const emperor = joinEmperor(process.env, (message) => log('warn', message));
    const told = emperor === null ? own : {
      ...own,
      listening: () => { own.listening?.(); emperor.tell('accepting'); },
      appReady: () => { own.appReady?.(); emperor.tell('ready'); },
    };
    // Start-up is over once the master serves: hot code is optimized again from here on.
    const hooks = { ...told, listening: () => { resumeOptimizingCompiler(); told.listening?.(); } };
    // Side programs and stats are imported only when configured: a plain master does not hold their code.
    const side: SideProgramsService | null = config.programs.length > 0 || config.ctlSocket !== null ? new (await import('../../supervise/side-programs.js')).SideProgramsService({
      config, log, line: (text) => logger.line(text),
      web: (): WebFacts => ({ state: master.state, pid: process.pid, startedAt: master.observed.startedAt, workers: master.observed.workers.length, generation: master.observed.generation }),
      // The same path as a SIGHUP: a graceful reload, side programs with reload-with-web included.
      restartWeb: () => process.kill(process.pid, 'SIGHUP'),
      reread: () => {
        const fresh = withoutOptimizing(() => reloadConfig(argv, cwd));
        return 'programs' in fresh ? fresh.programs : fresh;
      },
    }) : null;
    const notifier = notifyTarget !== null ? new SystemdNotifier(notifyTarget, interpreter.path, log) : undefined;
    const master = new Arbiter({ config, logger, interpreter, accessLog: accessLogFor, stages: await withStagesFor(config), reloadConfig: () => withoutOptimizing(() => reloadConfig(argv, cwd)), hooks, inherited, ...(notifier !== undefined ? { notifier } : {}), ...(side !== null ? { sidePrograms: side } : {}) });
    arbiter = master;
    await side?.listen();
    // Subscribed before the workers start, so generation 1 and every request are counted.
    const stats: StatsService | null = config.stats !== null || config.metrics !== null ? new (await import('../../stats/stats-server.js')).StatsService({ source: () => ({ ...master.observed, programs: side?.programs.status() ?? [] }), version: berthVersion(), log, origin }) : null;
    await stats?.start();
    code = await master.run();
    stats?.close();
  } catch (err) {
    const message = err instanceof BerthError ? err.message : String((err as Error).stack ?? err);
    logger.error(message);
    instance.failed(message);
    code = 1;
  }
  instance.finish(code, log);
  // "stopped" only for a master that served: a start refused at binding (the address is another
  // instance's, whose log this may well be) says that it did not start, and which process it was.
  if (!(arbiter?.bound ?? false)) logger.info(`pid ${process.pid} did not start (exit code ${code})`);
  else logger.info(`stopped (exit code ${code})`);
  logger.close();
  // Nothing must keep a stopped master alive (open keep-alive sockets, timers).
  process.exit(code);
}
