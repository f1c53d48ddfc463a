/**
 * How Berth treats the options of uWSGI's python and http plugins and of the other plugins
 * Debian ships, where they have no row of their own (the core's are in compat-rules-core.ts).
 */
import * as R from './compat-reasons.js';
import { rule, type CompatRule } from './compat-reasons.js';

export const PYTHON_RULES: readonly CompatRule[] = [
  rule('refused', 'Python', R.OTHER_LANGS, ['eval', 'paste', 'paste-logger', 'ini-paste', 'ini-paste-logged', 'pecan', 'web3', 'pump', 'wsgi-lite']),
  rule('refused', 'Python', R.PY_SCRIPTS, ['pyrun', 'py', 'pyshell', 'pyshell-oneshot', 'test']),
  rule('refused', 'Python', R.PY_INTERPRETER, ['py-executable', 'py-sys-executable', 'py-programname', 'py-program-name', 'python-worker-override']),
  rule('refused', 'Python', R.TRACEBACKS, ['py-tracebacker']),
  rule('refused', 'Python', R.UWSGI_API, ['py-sharedarea', 'python-raw', 'py-call-uwsgi-fork-hooks']),
  rule('refused', 'Python', R.SPOOLER, ['spooler-import', 'spooler-pyimport', 'spooler-py-import', 'spooler-python-import']),
  rule('planned', 'Python', R.APP_LOADING, ['import', 'pyimport', 'py-import', 'python-import', 'shared-import', 'shared-pyimport', 'shared-py-import', 'shared-python-import', 'pymodule-alias', 'post-pymodule-alias', 'pyargv']),
  rule('accepted', 'Python', R.PEP3333, ['wsgi-strict', 'wsgi-env-behaviour', 'wsgi-env-behavior']),
  rule('planned', 'Python', R.NOT_YET, ['optimize', 'no-site', 'reload-os-env', 'py-auto-reload-ignore', 'start_response-nodelay', 'wsgi-accept-buffer', 'wsgi-accept-buffers', 'wsgi-disable-file-wrapper', 'py-call-osafterfork']),
];

export const HTTP_RULES: readonly CompatRule[] = [
  rule('planned', 'Listening', R.WEBSOCKETS, ['http-websockets']),
  rule('accepted', 'Listening', R.HTTP_FRONT, ['http-processes', 'http-workers', 'http-uid', 'http-gid']),
  rule('planned', 'Logging', R.NO_STATS, ['http-stats', 'http-stats-server', 'http-ss']),
  rule('refused', 'Listening', R.MODIFIERS, ['http-modifier1', 'http-modifier2']),
  rule('refused', 'Listening', R.ROUTERS, ['http-to', 'http-zerg', 'http-fallback', 'http-use-*', 'http-events', 'http-subscription-*', 'http-gracetime', 'http-quiet', 'http-cheap', 'http-resubscribe', 'http-stud-prefix', 'http-var', 'http-manage-source', 'http-manage-rtsp']),
  rule('refused', 'Limits and timeouts', 'use harakiri (per request, in the workers) and http-timeout (per client connection)', ['http-harakiri', 'http-headers-timeout', 'http-connect-timeout']),
  rule('planned', 'Listening', R.NOT_YET, ['http-auto-gzip', 'http-raw-body', 'http-chunked-input', 'http-manage-expect', 'http-buffer-size', 'http-server-name-as-http-host', 'http-enable-proxy-protocol']),
];

export const PLUGIN_RULES: readonly CompatRule[] = [
  rule('planned', 'Processes', R.GREEN, ['plugin:gevent', 'plugin:greenlet', 'plugin:asyncio', 'plugin:tornado', 'plugin:ugreen']),
  rule('planned', 'Processes', R.FIXED_WORKERS, ['plugin:cheaper_busyness']),
  rule('refused', 'Listening', R.ROUTERS, ['plugin:fastrouter', 'plugin:rawrouter', 'plugin:sslrouter', 'plugin:forkptyrouter', 'plugin:zergpool', 'plugin:tuntap']),
  rule('refused', 'Logging', R.METRICS_PUSH, ['plugin:carbon', 'plugin:rrdtool', 'plugin:zabbix']),
  rule('refused', 'Logging', R.LOG_SINKS, ['plugin:rsyslog', 'plugin:logzmq', 'plugin:notfound']),
  rule('refused', 'Processes', R.CONTROL, ['plugin:ping', 'plugin:nagios']),
  rule('refused', 'Processes', R.FOREIGN_PLUGIN, ['plugin:pty', 'plugin:pam', 'plugin:webdav', 'plugin:mongrel2']),
];
