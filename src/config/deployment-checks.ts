/** Checks of a loaded Config against where it runs: a supervisor or systemd, root, nginx's user, peers on other hosts. */
import { isIPv4 } from 'node:net';
import { parseCidr, withinLoopback } from './cidr.js';
import { problemAt, type Problem } from './problem.js';
import type { Config, ListenAddress } from './schema.js';

export interface RunningContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The effective uid Berth runs as (null where the platform has none). */
  readonly uid: number | null;
  /** /proc/sys/net/core/somaxconn, the kernel's cap on every listen backlog (null: unknown). */
  readonly somaxconn?: number | null;
}

/** Which process supervisor started us, told by the variables it sets in its children's environment. */
export function supervisorOf(env: Readonly<Record<string, string | undefined>>): { name: string; variable: string } | null {
  if (env.SUPERVISOR_ENABLED !== undefined) return { name: 'supervisord', variable: 'SUPERVISOR_ENABLED' };
  if (env.NOTIFY_SOCKET !== undefined) return { name: 'systemd', variable: 'NOTIFY_SOCKET' };
  if (env.INVOCATION_ID !== undefined) return { name: 'systemd', variable: 'INVOCATION_ID' };
  return null;
}

/** A uwsgi `socket` on TCP that peers on other hosts can reach, though nothing in uwsgi-allow admits them. */
export interface ExposedSocket {
  readonly address: string;
  /** The line to add: the bound address's /24 when it is a concrete IPv4 address, else an example. */
  readonly allowLine: string;
  readonly concrete: boolean;
}

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const net = parseCidr(host);
  return net !== null && withinLoopback(net);
}

export function exposedSockets(config: Config): ExposedSocket[] {
  if (config.uwsgiAllow.length > 0) return [];
  return config.uwsgi
    .filter((a): a is Extract<ListenAddress, { kind: 'tcp' }> => a.kind === 'tcp' && !isLoopbackHost(a.host))
    .map((a) => {
      const concrete = isIPv4(a.host) && a.host !== '0.0.0.0';
      const network = concrete ? `${a.host.split('.').slice(0, 3).join('.')}.0/24` : '10.0.0.0/24';
      return { address: a.text, allowLine: `uwsgi-allow = ${network}`, concrete };
    });
}

/** The sentence `berth check` and the start-up warning share. */
export function describeExposure(e: ExposedSocket): { message: string; fix: string } {
  return {
    message: `socket ${e.address} can be reached from other hosts, but Berth takes uwsgi packets on it only from loopback peers (127.0.0.0/8, ::1) and refuses every other peer (nginx on another host gets its connection closed: a 502) unless uwsgi-allow names it`,
    fix: e.concrete
      ? `add ${e.allowLine} under [uwsgi] (the network of ${e.address}), or the address of your nginx host as /32`
      : `add uwsgi-allow = <your nginx host's network> under [uwsgi], for example ${e.allowLine}, or bind socket = 127.0.0.1:… if nginx runs on this machine`,
  };
}

export function checkDeployment(config: Config, context: RunningContext): { problems: Problem[]; warnings: Problem[] } {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  // Detaching under a supervisor: it sees its child exit, starts another (a loop), and loses the
  // detached master, which keeps serving after `supervisorctl stop`. Refused rather than ignored:
  // daemonize also names the log file, and a refusal keeps the config's meaning in the open.
  const supervisor = supervisorOf(context.env);
  for (const option of ['daemonize', 'daemonize2'] as const) {
    const file = config[option];
    if (supervisor === null || file === null) continue;
    const unit = supervisor.name === 'systemd' ? ' and make the unit Type=notify (`berth systemd-unit` prints one), or Type=simple' : '';
    problems.push(problemAt(config.sources[option], {
      code: 'daemonize-under-supervisor', option,
      message: `${option} = ${file} under ${supervisor.name} (${supervisor.variable} is set): Berth would detach, ${supervisor.name} would take its exit for a crash and start it again in a loop, and the detached Berth would keep serving after ${supervisor.name === 'systemd' ? 'systemctl stop' : 'supervisorctl stop'}`,
      fix: `replace ${option} = ${file} with logto = ${file} (or remove it and let ${supervisor.name} keep the output)${unit}: under a supervisor Berth stays in the foreground`,
    }));
  }
  for (const e of exposedSockets(config)) {
    const sourceOf = config.sources.socket;
    warnings.push(problemAt(sourceOf, { code: 'socket-beyond-loopback', option: 'socket', ...describeExposure(e) }));
  }
  if (config.chmodSocket !== null && (config.chmodSocket & 0o002) === 0 && config.chownSocket === null) {
    const mode = config.chmodSocket.toString(8);
    for (const a of [...config.uwsgi, ...config.http]) {
      if (a.kind !== 'unix') continue;
      warnings.push(problemAt(config.sources['chmod-socket'], {
        code: 'socket-mode-excludes-nginx', option: 'chmod-socket',
        message: `chmod-socket = ${mode} lets only the owner and group of ${a.path} connect: nginx runs as another user (www-data or nobody) and gets "permission denied" (a 502) unless it is in that group`,
        fix: `use chmod-socket = 666, or keep ${mode} and give the socket nginx's group with chown-socket = <user>:www-data`,
      }));
    }
  }
  if (context.uid !== null && context.uid !== 0) {
    for (const p of config.programs) {
      if (p.user === null) continue;
      const where = p.origin === 'program' ? `[program:${p.program}]` : p.origin;
      problems.push({
        ...(p.source.file !== undefined ? { file: p.source.file } : {}), ...(p.source.line !== undefined ? { line: p.source.line } : {}),
        code: 'program-user-not-root', option: p.origin === 'program' ? 'user' : 'uid',
        message: `${where} sets ${p.origin === 'program' ? 'user' : 'uid'} = ${p.user}, but Berth runs as uid ${context.uid}, not root, and only root can start a process as another user`,
        fix: `start Berth as root (it drops its own privileges with uid/gid), or remove ${p.origin === 'program' ? 'user' : 'uid'} = ${p.user} so ${p.name} runs as Berth's user`,
      });
    }
  }
  const somaxconn = context.somaxconn ?? null;
  if (somaxconn !== null && config.listen > somaxconn && config.http.length + config.uwsgi.length > 0) {
    // Linux caps the backlog silently: the front (nginx) meets a full queue sooner than listen says.
    warnings.push(problemAt(config.sources.listen, {
      code: 'listen-above-somaxconn', option: 'listen',
      message: `listen = ${config.listen}, but the kernel caps every listen backlog at net.core.somaxconn = ${somaxconn} (/proc/sys/net/core/somaxconn): only ${somaxconn} connections can wait to be accepted, and past that nginx's connect() fails with "(11: Resource temporarily unavailable)" on a unix socket and answers 502`,
      fix: `raise the cap to at least ${config.listen} (sysctl -w net.core.somaxconn=${config.listen}, and a line in /etc/sysctl.d/ to keep it), or lower listen to ${somaxconn}`,
    }));
  }
  if (context.uid === 0 && config.uid === null) {
    warnings.push({
      code: 'root-without-uid', option: 'uid',
      message: 'Berth runs as root and no uid is set: the Python workers, and so your app, run as root',
      fix: 'add uid = www-data and gid = www-data under [uwsgi] (listeners are bound before privileges are dropped, so ports below 1024 still work)',
    });
  }
  return { problems, warnings };
}
