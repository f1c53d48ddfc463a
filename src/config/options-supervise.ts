/**
 * The option rows of supervision (issue 15): uWSGI's attach-daemon forms, the control socket of
 * `berth ctl`, and what the web workers wait for. [program:x] sections are read apart
 * (program-sections.ts). Same row shape as options.ts.
 */
import { rowsIn, type OptionSpec } from './option-spec.js';

const row = rowsIn('Processes');

export const SUPERVISE_OPTIONS: readonly OptionSpec[] = [
  row({
    name: 'attach-daemon', type: 'string', repeatable: true, field: 'programs', plugin: 'core',
    help: "Run a side program (by /bin/sh -c) beside the web workers and restart it when it exits, with supervisor's backoff. As in uWSGI it is restarted when the web workers reload. Named after its command in berth ctl. See docs/supervision.md.",
  }),
  row({
    name: 'attach-daemon2', type: 'string', repeatable: true, field: 'programs', plugin: 'core',
    help: 'A side program in key=value form: cmd= (required), name=, pidfile=, stopsignal=, reloadsignal=, uid=, cd=, umask=. Other uWSGI keys are refused with the reason. See docs/supervision.md.',
  }),
  row({
    name: 'smart-attach-daemon', type: 'string', repeatable: true, field: 'programs', plugin: 'core',
    help: 'PIDFILE COMMAND: a side program that puts itself in the background and writes PIDFILE; Berth watches that pid, starts the command again when the pid is gone, and leaves it running across reloads of the web workers.',
  }),
  row({
    name: 'ctl-socket', type: 'path', field: 'ctlSocket', berthOnly: true,
    help: "The unix socket (mode 600) berth ctl talks to; default: the pidfile's path with .ctl added (no control socket without either). In an emperor's config: berth ctl lists the vassals and starts, stops and restarts them through it.",
  }),
  row({
    name: 'web-depends-on', type: 'string', repeatable: true, field: 'webDependsOn', berthOnly: true,
    help: 'Side programs (comma-separated names) that must be ready (RUNNING for their startsecs, or their ready-check passing) before the web workers start.',
  }),
];
