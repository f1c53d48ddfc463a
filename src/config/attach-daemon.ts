/**
 * uWSGI's attach-daemon forms as ProgramSpecs: `attach-daemon = CMD`, `smart-attach-daemon =
 * PIDFILE CMD` and `attach-daemon2 = cmd=…,pidfile=…,stopsignal=…`. Like uWSGI, an attach-daemon
 * is restarted when the web workers reload (uWSGI re-executes itself), a smart one is not.
 */
import path from 'node:path';
import { PROGRAM_DEFAULTS, parseSignalName, type ProgramSpec } from './program-spec.js';
import type { ValueSource } from './schema.js';

/** attach-daemon2 keys Berth reads; the rest of uWSGI's are refused with a reason. */
const KEYS2 = ['cmd', 'exec', 'pidfile', 'stopsignal', 'stop_signal', 'reloadsignal', 'reload_signal', 'uid', 'cd', 'umask', 'name'];
const REFUSED2: Readonly<Record<string, string>> = {
  control: 'Berth never stops the web workers because a side program died; watch it with berth ctl status',
  daemonize: 'use pidfile= for a command that forks into the background (or smart-attach-daemon)',
  touch: 'use berth ctl restart NAME (from the tool that touches the file)',
  stdin: 'side programs get /dev/null as standard input',
  gid: 'set user = NAME in a [program:NAME] section (its primary group is used)',
  ns: 'Linux namespaces are not supported (docs/uwsgi-compat.md)',
  chroot: 'chroot is not supported (docs/uwsgi-compat.md)',
  freq: 'Berth restarts with supervisor\'s backoff (1 s, 2 s, … startretries, then FATAL)',
  throttle: 'Berth restarts with supervisor\'s backoff (1 s, 2 s, … startretries, then FATAL)',
  legion: 'legions are not supported (docs/uwsgi-compat.md)',
};

function base(name: string, command: string, source: ValueSource, origin: ProgramSpec['origin']): ProgramSpec {
  return {
    name, program: name, origin, source, command, directory: null, environment: [], user: null, umask: null,
    autostart: true, autorestart: 'true', startsecsMs: PROGRAM_DEFAULTS.startsecsMs, startretries: PROGRAM_DEFAULTS.startretries,
    exitcodes: [0], stopsignal: 'SIGTERM', stopwaitMs: PROGRAM_DEFAULTS.stopwaitMs, stopasgroup: true, killasgroup: true,
    redirectStderr: false, stdout: { kind: 'log' }, stderr: { kind: 'log' }, priority: PROGRAM_DEFAULTS.priority,
    dependsOn: [], readyCheck: null, reloadWithWeb: origin === 'attach-daemon', pidfile: null, reloadSignal: null,
  };
}

/** A name for a daemon without one: the command's program name, made unique by a number. */
function nameFor(command: string, taken: Set<string>): string {
  const word = path.basename(command.trim().split(/\s+/)[0] ?? 'daemon').replace(/[^A-Za-z0-9_.-]/g, '') || 'daemon';
  let name = word;
  for (let i = 2; taken.has(name); i++) name = `${word}-${i}`;
  taken.add(name);
  return name;
}

export type DaemonValue = { readonly option: 'attach-daemon' | 'attach-daemon2' | 'smart-attach-daemon'; readonly value: string; readonly source: ValueSource; readonly written: string };

/** Each value as a ProgramSpec, or a message and a fix. */
export function readAttachDaemons(values: readonly DaemonValue[], cwd: string, taken: Set<string>): ({ spec: ProgramSpec } | { value: DaemonValue; message: string; fix: string })[] {
  return values.map((v) => {
    const text = v.value.trim();
    if (text === '') return { value: v, message: `${v.written} needs a command`, fix: `write ${v.written} = ${v.option === 'smart-attach-daemon' ? '/run/x.pid ' : ''}/path/to/program --args` };
    if (v.option === 'attach-daemon') return { spec: base(nameFor(text, taken), text, v.source, 'attach-daemon') };
    if (v.option === 'smart-attach-daemon') {
      const space = text.search(/\s/);
      if (space < 0) return { value: v, message: `${v.written} = ${text}: needs a pidfile, then the command`, fix: `write ${v.written} = /run/memcached.pid memcached -d -P /run/memcached.pid` };
      const pidfile = path.resolve(cwd, text.slice(0, space));
      const command = text.slice(space).trim();
      return { spec: { ...base(nameFor(command, taken), command, v.source, 'smart-attach-daemon'), pidfile } };
    }
    const kv = new Map<string, string>();
    for (const part of text.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) return { value: v, message: `${v.written}: '${part}' is not key=value`, fix: `write ${v.written} = cmd=/path/to/program,stopsignal=15` };
      kv.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    for (const key of kv.keys()) {
      if (REFUSED2[key] !== undefined) return { value: v, message: `${v.written}: ${key}= is not supported`, fix: REFUSED2[key] as string };
      if (!KEYS2.includes(key)) return { value: v, message: `${v.written}: unknown key '${key}'`, fix: `the keys Berth reads are ${KEYS2.join(', ')} (docs/supervision.md)` };
    }
    const command = kv.get('cmd') ?? kv.get('exec');
    if (command === undefined || command === '') return { value: v, message: `${v.written}: no cmd=`, fix: `write ${v.written} = cmd=/path/to/program` };
    const signal = (key: string): NodeJS.Signals | null | undefined => {
      const s = kv.get(key) ?? kv.get(key.replace('signal', '_signal'));
      return s === undefined ? undefined : parseSignalName(s);
    };
    const stop = signal('stopsignal');
    const reload = signal('reloadsignal');
    if (stop === null || reload === null) return { value: v, message: `${v.written}: the signal is not one of TERM, HUP, INT, QUIT, KILL, USR1, USR2 (or their numbers)`, fix: `write stopsignal=15` };
    const umask = kv.get('umask');
    if (umask !== undefined && !/^[0-7]{1,4}$/.test(umask)) return { value: v, message: `${v.written}: umask=${umask} is not octal`, fix: 'write umask=022' };
    const pidfile = kv.get('pidfile');
    const name = kv.get('name') ?? nameFor(command, taken);
    return {
      spec: {
        ...base(name, command, v.source, pidfile !== undefined ? 'smart-attach-daemon' : 'attach-daemon'),
        stopsignal: stop ?? 'SIGTERM',
        reloadSignal: reload ?? null,
        user: kv.get('uid') ?? null,
        directory: kv.has('cd') ? path.resolve(cwd, kv.get('cd') as string) : null,
        umask: umask !== undefined ? parseInt(umask, 8) : null,
        pidfile: pidfile !== undefined ? path.resolve(cwd, pidfile) : null,
      },
    };
  });
}
