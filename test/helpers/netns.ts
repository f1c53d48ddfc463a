/**
 * Hosts made of Linux network namespaces for the multi-host e2e test: one "switch" namespace
 * holding a bridge, and one namespace per host joined to it by a veth pair, each host with one
 * address inside 127.0.0.0/8 (route_localnet lets the kernel route those over a veth). Traffic
 * never leaves the namespaces made here; lo keeps only 127.0.0.1/32, so the other hosts'
 * 127.0.10.x addresses are reached over the bridge instead of being taken as local.
 * Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2; missing either is a loud failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export const IP_BIN = '/usr/sbin/ip';

export interface HostSpec {
  /** Short name, also the switch-side interface name (≤ 15 characters with no prefix). */
  readonly name: string;
  readonly ip: string;
}

export interface Network {
  /** The namespace name of a host. */
  ns(host: string): string;
  /** Runs a command in a host's namespace to completion; throws with its output on failure. */
  run(host: string, argv: readonly string[], opts?: { env?: Record<string, string>; cwd?: string; timeoutMs?: number }): string;
  /** Starts a long-running command in a host's namespace (the caller stops it; destroy() kills what is left). */
  spawn(host: string, argv: readonly string[], opts?: { env?: Record<string, string>; cwd?: string }): ChildProcess;
  /** Every process inside a host's namespace. */
  pids(host: string): number[];
  /** Kills every process left in every namespace, then deletes the namespaces. Idempotent. */
  destroy(): void;
}

function ip(args: readonly string[]): string {
  return execFileSync(IP_BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Fails loudly, naming what is missing, unless this process may create network namespaces. */
export function requireNetnsCapability(): void {
  if (!existsSync(IP_BIN)) throw new Error(`${IP_BIN} is missing: install iproute2 (sudo bash scripts/install-test-deps.sh)`);
  if (process.getuid?.() !== 0) {
    throw new Error('the multi-host test creates network namespaces (ip netns add, veth pairs): it needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN); run the suite as root');
  }
}

/** Makes the switch and the hosts; on any failure what was made is removed before the error is thrown. */
export function createNetwork(hosts: readonly HostSpec[], prefix = 'bmh'): Network {
  requireNetnsCapability();
  const tag = `${prefix}${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const ns = (host: string): string => `${tag}-${host}`;
  const made: string[] = [];
  const pids = (host: string): number[] =>
    ip(['netns', 'pids', ns(host)]).split('\n').filter((l) => l.trim() !== '').map(Number);
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    const errors: string[] = [];
    for (const name of made) {
      try {
        for (const pid of ip(['netns', 'pids', name]).split('\n').filter((l) => l.trim() !== '')) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        ip(['netns', 'del', name]);
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(`removing the test's network namespaces failed:\n${errors.join('\n')}`);
  };
  const inNs = (host: string, argv: readonly string[]): string[] => ['netns', 'exec', ns(host), ...argv];
  try {
    const sw = ns('sw');
    ip(['netns', 'add', sw]);
    made.push(sw);
    ip(['-n', sw, 'link', 'set', 'lo', 'up']);
    ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', sw, 'link', 'set', 'br0', 'up']);
    for (const h of hosts) {
      const name = ns(h.name);
      ip(['netns', 'add', name]);
      made.push(name);
      ip(['-n', sw, 'link', 'add', h.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
      ip(['-n', sw, 'link', 'set', h.name, 'master', 'br0', 'up']);
      // Without route_localnet the kernel drops 127/8 packets arriving on (or leaving by) a veth as martians.
      for (const key of ['all', 'default', 'eth0']) ip(inNs(h.name, ['sysctl', '-qw', `net.ipv4.conf.${key}.route_localnet=1`]));
      ip(['-n', name, 'link', 'set', 'lo', 'up']);
      ip(['-n', name, 'addr', 'del', '127.0.0.1/8', 'dev', 'lo']);
      ip(['-n', name, 'addr', 'add', '127.0.0.1/32', 'dev', 'lo']);
      ip(['-n', name, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      ip(['-n', name, 'link', 'set', 'eth0', 'up']);
    }
  } catch (err) {
    destroy();
    const e = err as { message: string; stderr?: string };
    throw new Error(`making the network namespaces failed: ${e.message}${e.stderr ?? ''}`);
  }
  return {
    ns,
    run: (host, argv, opts = {}) => {
      try {
        return execFileSync(IP_BIN, inNs(host, argv), {
          encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000,
        });
      } catch (err) {
        const e = err as { message: string; stdout?: string; stderr?: string };
        throw new Error(`in ${host}: ${argv.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      }
    },
    spawn: (host, argv, opts = {}) =>
      spawn(IP_BIN, inNs(host, argv), { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] }),
    pids,
    destroy,
  };
}
