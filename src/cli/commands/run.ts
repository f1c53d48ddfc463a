/** `berth [options]`: serve until stopped. */
import { Logger, fileSink, stderrSink } from '../../log/logger.js';
import { RequestLog } from '../../log/request-log.js';
import { Arbiter } from '../../master/arbiter.js';
import { resolveInterpreter } from '../../master/interpreter.js';
import { BerthError } from '../../errors/berth-error.js';
import { loadOrReport } from './load.js';

export async function runServe(argv: readonly string[]): Promise<number> {
  const config = loadOrReport(argv, 'berth');
  if (config === null) return 1;
  let logger: Logger;
  try {
    logger = new Logger(config.logto !== null ? fileSink(config.logto) : stderrSink());
  } catch (err) {
    process.stderr.write(`[berth] ERROR: option 'logto': cannot open ${config.logto}: ${(err as Error).message} — check the directory exists and is writable\n`);
    return 1;
  }
  let code: number;
  try {
    const interpreter = resolveInterpreter(config, process.env.PATH);
    const arbiter = new Arbiter({ config, logger, interpreter, requestLog: config.disableLogging ? null : new RequestLog() });
    code = await arbiter.run();
  } catch (err) {
    logger.error(err instanceof BerthError ? err.message : String((err as Error).stack ?? err));
    code = 1;
  }
  logger.info(`stopped (exit code ${code})`);
  logger.close();
  // Nothing must keep a stopped master alive (open keep-alive sockets, timers).
  process.exit(code);
}
