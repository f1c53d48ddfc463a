/**
 * Every error Berth raises on purpose is a BerthError with a stable BERTH_* code,
 * listed (with its meaning and fix) in docs/errors.md; a test keeps the two in step.
 */
export const ERROR_CODES = {
  BERTH_CONFIG_INVALID: 'the configuration has problems; each is listed with option, file:line and fix',
  BERTH_PYTHON_NOT_FOUND: 'the Python interpreter chosen by home/virtualenv, python or PATH does not exist or cannot run',
  BERTH_APP_IMPORT_FAILED: 'the WSGI app could not be imported or its callable was not found',
  BERTH_WORKER_BOOT_FAILED: 'the Python process that imports the app died before it reported READY',
  BERTH_BIND_FAILED: 'a listener address could not be bound (in use, permission, bad address)',
  BERTH_ALREADY_RUNNING: 'the pidfile names a live Berth master: a second instance was not started',
  BERTH_PIDFILE_FAILED: 'a pidfile could not be read or written (directory missing, permissions)',
  BERTH_HTTP_PROTOCOL: 'a peer sent bytes that break HTTP/1.1 (RFC 9112) or the uwsgi protocol; answered 4xx/502 or closed',
  BERTH_WORKER_PROTOCOL: 'a worker sent a frame that breaks the master/worker wire format',
  BERTH_ILLEGAL_TRANSITION: 'a worker or the master was asked to change state in a way its state table forbids (a Berth bug)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BerthError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BerthError';
    this.code = code;
  }
}
