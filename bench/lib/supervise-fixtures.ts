// The programs bench/supervise-compare.ts runs under each supervisor: a slow-starting server A,
// a client B that needs A (exits 1 when A does not answer), a plain daemon that records its pid,
// and a daemon that forks into the background and writes a pidfile (for smart-attach-daemon).

import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRoot } from './cli-common.js';

/** A: sleeps 3 s, then listens on PORT and appends the time it did so to READY_FILE. */
const SLOW_SERVER = `import socket, sys, time
port, ready = int(sys.argv[1]), sys.argv[2]
time.sleep(3)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port))
s.listen(16)
with open(ready, 'a') as f:
    f.write('%.3f\\n' % time.time())
while True:
    c, _ = s.accept()
    c.close()
`;

/** B: appends "start TIME", then "ok TIME" and stays up if A answers, else "fail TIME" and exit 1. */
const NEEDS_A = `import socket, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
with open(log, 'a') as f:
    f.write('start %.3f\\n' % time.time())
try:
    socket.create_connection(('127.0.0.1', port), timeout=1).close()
except OSError:
    with open(log, 'a') as f:
        f.write('fail %.3f\\n' % time.time())
    sys.exit(1)
with open(log, 'a') as f:
    f.write('ok %.3f\\n' % time.time())
while True:
    time.sleep(60)
`;

/** A foreground daemon: appends its pid to NAME.pids beside this script, then sleeps. */
const PLAIN_DAEMON = `#!/bin/sh
echo $$ >> "$(dirname "$0")/$1.pids"
exec sleep 300
`;

export interface Fixtures {
  readonly slowServer: string;
  readonly needsA: string;
  readonly plainDaemon: string;
  readonly forkingDaemon: string;
}

export function writeFixtures(dir: string): Fixtures {
  const f = { slowServer: join(dir, 'slow_server.py'), needsA: join(dir, 'needs_a.py'), plainDaemon: join(dir, 'plain_daemon.sh'), forkingDaemon: join(dir, 'forking_daemon.py') };
  writeFileSync(f.slowServer, SLOW_SERVER);
  writeFileSync(f.needsA, NEEDS_A);
  writeFileSync(f.plainDaemon, PLAIN_DAEMON, { mode: 0o755 });
  copyFileSync(join(findRoot(), 'test/fixtures/programs/forking_daemon.py'), f.forkingDaemon);
  return f;
}
