/**
 * Unix-socket housekeeping around bind: a socket file left by a crashed server (nobody
 * answers on it) is replaced; a live one is an error naming the path; a regular file is never
 * deleted. After bind, `chmod-socket` / `chown-socket` set who may connect (nginx runs as
 * www-data, so the usual fix for "connect() to unix:… failed (13: Permission denied)" is
 * chmod-socket = 666 or a shared group).
 */
import { connect } from 'node:net';
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import { BerthError } from '../errors/berth-error.js';
import { numericId, primaryGroupOf } from './accounts.js';

function probe(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve('live');
    });
    s.once('error', () => resolve('stale'));
  });
}

/** Makes `path` free for bind, or throws BERTH_BIND_FAILED explaining why it cannot be. */
export async function prepareUnixPath(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new BerthError('BERTH_BIND_FAILED', `cannot listen on ${path}: a file that is not a socket is in the way — remove or rename it, or choose another socket path`);
  }
  if ((await probe(path)) === 'live') {
    throw new BerthError('BERTH_BIND_FAILED', `cannot listen on ${path}: another server is already listening on this unix socket — stop it first, or choose another path`);
  }
  unlinkSync(path);
}

/** Applies chmod-socket and chown-socket to a freshly bound unix socket. */
export function applySocketOwnership(path: string, mode: number | null, owner: string | null): void {
  if (mode !== null) {
    try {
      chmodSync(path, mode);
    } catch (err) {
      throw new BerthError('BERTH_BIND_FAILED', `chmod-socket: cannot set mode ${mode.toString(8)} on ${path}: ${(err as Error).message}`);
    }
  }
  if (owner !== null) {
    const [user, group] = owner.split(':') as [string, string | undefined];
    const uid = numericId(user, '/etc/passwd');
    const gid = group === undefined ? primaryGroupOf(user) : numericId(group, '/etc/group');
    if (uid === null) throw new BerthError('BERTH_BIND_FAILED', `chown-socket: no user '${user}' on this machine — check the name (getent passwd ${user})`);
    if (gid === null) throw new BerthError('BERTH_BIND_FAILED', `chown-socket: no group '${group ?? user}' on this machine — check the name (getent group ${group ?? user})`);
    try {
      chownSync(path, uid, gid);
    } catch (err) {
      throw new BerthError('BERTH_BIND_FAILED', `chown-socket: cannot give ${path} to ${owner}: ${(err as Error).message} — changing the owner needs root`);
    }
  }
}
