/**
 * The operations part of the Config (pidfile, daemonize, privileges, reloads, recycling, the
 * log), checked for what single values cannot show: directories that must exist, options that
 * only work together, and privileges Berth cannot get.
 */
import os from 'node:os';
import path from 'node:path';
import type { Assigned, Value } from './map.js';
import type { ConfigField } from './option-spec.js';
import { problemAt, type Problem } from './problem.js';
import type { Config } from './schema.js';
import { kindOf, writableFileProblem } from './fs-kind.js';

const MiB = 1024 * 1024;

export type OperationsConfig = Pick<Config,
  'pidfile' | 'pidfile2' | 'daemonize' | 'daemonize2' | 'uid' | 'gid' | 'umask' | 'lazyApps' | 'chainReload' |
  'reloadMercyMs' | 'workerReloadMercyMs' | 'reloadCheck' | 'reloadCheckDjango' | 'reloadRollbackAfter' | 'maxRequests' | 'maxRequestsDelta' | 'minWorkerLifetimeMs' |
  'maxWorkerLifetimeMs' | 'reloadOnRssBytes' | 'harakiriMs' | 'harakiriVerbose' | 'touchReload' | 'touchChainReload' |
  'touchLogreopen' | 'pyAutoreloadMs' | 'logMaxsizeBytes' | 'logBackupname' | 'logBackups' | 'logReopen' | 'log4xx' |
  'log5xx' | 'logSlowMs' | 'logFormat' | 'logJson'>;

export interface OperationsInput {
  readonly all: (f: ConfigField) => readonly Assigned[];
  readonly valueOf: <T extends Value>(f: ConfigField) => T;
  readonly cwd: string;
  readonly logto: string | null;
  readonly disableLogging: boolean;
  /**
   * Checks log-format's variables, whose table lives in log/ (which config must not import):
   * the caller passes it in; one message per problem, placed at the log-format assignment.
   */
  readonly checkLogFormat?: LogFormatCheck;
}

export type LogFormatCheck = (format: string) => readonly string[];

const isDir = (p: string): boolean => kindOf(p) === 'dir';

export function buildOperations(input: OperationsInput, problems: Problem[], warnings: Problem[]): OperationsConfig {
  const { all, valueOf, cwd } = input;
  const last = (f: ConfigField): Assigned | undefined => all(f).at(-1);
  const fail = (a: Assigned, code: string, message: string, fix: string): void => void problems.push(problemAt(a.source, { code, option: a.written, message, fix }));
  const warn = (a: Assigned, code: string, message: string, fix: string): void => void warnings.push(problemAt(a.source, { code, option: a.written, message, fix }));

  /** A file Berth writes: absolute, in a directory that exists, not a directory itself. */
  const writable = (f: ConfigField, what: string): string | null => {
    const a = last(f);
    if (a === undefined) return null;
    const p = path.resolve(cwd, a.value as string);
    const bad = writableFileProblem(p, a.written, `put the ${what} somewhere else`, `name a ${what} file inside it`);
    if (bad !== null) fail(a, bad.code, bad.message, bad.fix);
    return p;
  };
  const pidfile = writable('pidfile', 'pidfile');
  const pidfile2 = writable('pidfile2', 'pidfile');
  const daemonize = writable('daemonize', 'log');
  const daemonize2 = writable('daemonize2', 'log');
  const d1 = last('daemonize');
  const d2 = last('daemonize2');
  if (d1 !== undefined && d2 !== undefined) fail(d2, 'conflict', `'${d2.written}' and '${d1.written}' are both set`, 'keep one: daemonize returns once Berth listens, daemonize2 once the app is ready');
  const daemonA = d2 ?? d1;
  if (daemonA !== undefined && input.logto !== null) {
    warn(daemonA, 'no-effect', `'${daemonA.written}' names a log file but logto is set too; the log goes to logto (${input.logto})`, 'remove one of the two');
  }

  const uidA = last('uid');
  const gidA = last('gid');
  const current = typeof process.getuid === 'function' ? process.getuid() : 0;
  if (current !== 0) {
    const me = os.userInfo();
    for (const a of [uidA, gidA]) {
      if (a === undefined) continue;
      const v = (a.value as string).trim();
      const same = a === uidA ? v === String(me.uid) || v === me.username : v === String(me.gid);
      if (!same) fail(a, 'needs-root', `${a.written} = ${v}: Berth runs as ${me.username} (uid ${me.uid}), not root, so it cannot switch to another ${a === uidA ? 'user' : 'group'}`, `start Berth as root, or remove '${a.written}'`);
    }
  }
  const umaskA = last('umask');

  const touch = (f: ConfigField): string[] => all(f).map((a) => {
    const p = path.resolve(cwd, a.value as string);
    if (!isDir(path.dirname(p))) warn(a, 'no-such-directory', `the directory of ${a.written} ${p} does not exist, so the file can never be touched`, `create ${path.dirname(p)} or correct the path`);
    return p;
  });

  const logFile = input.logto ?? daemonize ?? daemonize2;
  const maxsizeA = last('logMaxsizeBytes');
  if (maxsizeA !== undefined && logFile === null && (maxsizeA.value as number) > 0) {
    warn(maxsizeA, 'no-effect', `${maxsizeA.written} has no effect: the log goes to stderr`, 'set logto = <file> (or daemonize = <file>), or remove it');
  }
  const backupA = last('logBackupname');
  const logBackupname = backupA === undefined ? null : path.resolve(cwd, backupA.value as string);
  if (backupA !== undefined && !isDir(path.dirname(logBackupname!))) fail(backupA, 'no-such-directory', `the directory of ${backupA.written} ${logBackupname} does not exist`, `create ${path.dirname(logBackupname!)}`);
  if (!input.disableLogging) {
    for (const f of ['log4xx', 'log5xx', 'logSlowMs'] as const) {
      const a = last(f);
      if (a !== undefined && a.value !== false && a.value !== 0) warn(a, 'no-effect', `${a.written} only matters with disable-logging: every request is logged already`, `add disable-logging = true, or remove ${a.written}`);
    }
  }
  const formatA = last('logFormat');
  const jsonA = last('logJson');
  if (formatA !== undefined && jsonA !== undefined && jsonA.value === true) fail(formatA, 'conflict', `'${formatA.written}' and '${jsonA.written}' are both set`, 'keep one: log-json writes fixed JSON fields, log-format a line of your own');
  if (formatA !== undefined && input.checkLogFormat !== undefined) {
    for (const message of input.checkLogFormat(formatA.value as string)) problems.push(problemAt(formatA.source, { code: 'bad-value', option: formatA.written, message }));
  }
  const harakiriA = last('harakiriMs');
  if (harakiriA !== undefined && (harakiriA.value as number) > 0 && (harakiriA.value as number) < 1000) {
    warn(harakiriA, 'short-harakiri', `${harakiriA.written} is under a second; requests will be killed after ${harakiriA.value as number} ms`, 'uWSGI counts harakiri in seconds: write harakiri = 30 for 30 s');
  }

  return {
    pidfile,
    pidfile2,
    daemonize,
    daemonize2,
    uid: (uidA?.value as string | undefined)?.trim() ?? null,
    gid: (gidA?.value as string | undefined)?.trim() ?? null,
    umask: umaskA === undefined ? null : parseInt((umaskA.value as string).trim(), 8),
    lazyApps: valueOf<boolean>('lazyApps'),
    chainReload: valueOf<boolean>('chainReload'),
    reloadMercyMs: valueOf<number>('reloadMercyMs'),
    workerReloadMercyMs: valueOf<number>('workerReloadMercyMs'),
    reloadCheck: (last('reloadCheck')?.value as string | undefined)?.trim() ?? null,
    reloadCheckDjango: valueOf<boolean>('reloadCheckDjango'),
    reloadRollbackAfter: valueOf<number>('reloadRollbackAfter'),
    maxRequests: valueOf<number>('maxRequests'),
    maxRequestsDelta: valueOf<number>('maxRequestsDelta'),
    minWorkerLifetimeMs: valueOf<number>('minWorkerLifetimeMs'),
    maxWorkerLifetimeMs: valueOf<number>('maxWorkerLifetimeMs'),
    reloadOnRssBytes: valueOf<number>('reloadOnRssBytes') * MiB,
    harakiriMs: valueOf<number>('harakiriMs'),
    harakiriVerbose: valueOf<boolean>('harakiriVerbose'),
    touchReload: Object.freeze(touch('touchReload')),
    touchChainReload: Object.freeze(touch('touchChainReload')),
    touchLogreopen: Object.freeze(touch('touchLogreopen')),
    pyAutoreloadMs: valueOf<number>('pyAutoreloadMs'),
    logMaxsizeBytes: valueOf<number>('logMaxsizeBytes'),
    logBackupname,
    logBackups: valueOf<number>('logBackups'),
    logReopen: valueOf<boolean>('logReopen'),
    log4xx: valueOf<boolean>('log4xx'),
    log5xx: valueOf<boolean>('log5xx'),
    logSlowMs: valueOf<number>('logSlowMs'),
    logFormat: (formatA?.value as string | undefined) ?? null,
    logJson: valueOf<boolean>('logJson'),
  };
}
