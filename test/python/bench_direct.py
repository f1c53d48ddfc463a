"""Benchmark (not a test): the direct path's serve_connection in process, per hello request.

  python3 test/python/bench_direct.py [N] [runs] [--runtime DIR]

Each request is one socketpair with the uwsgi packet already written; only the
serve_connection call is timed.  --runtime DIR imports an old single-file berth_worker.py
from DIR instead of the berth_runtime package (for before/after figures).  Prints the
minimum and the median over the runs of the mean µs per request."""

import os
import socket
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))

NGINX = [('QUERY_STRING', ''), ('REQUEST_METHOD', 'GET'), ('CONTENT_TYPE', ''), ('CONTENT_LENGTH', ''),
         ('REQUEST_URI', '/'), ('PATH_INFO', '/'), ('DOCUMENT_URI', '/'), ('DOCUMENT_ROOT', '/srv'),
         ('SERVER_PROTOCOL', 'HTTP/1.1'), ('REQUEST_SCHEME', 'http'), ('REMOTE_ADDR', '127.0.0.1'),
         ('REMOTE_PORT', '40000'), ('SERVER_PORT', '80'), ('SERVER_NAME', 'localhost'),
         ('HTTP_HOST', 'localhost'), ('HTTP_USER_AGENT', 'wrk'), ('HTTP_ACCEPT', '*/*')]
DCFG = {'buffer_size': 4096, 'limit_post': 0, 'manage_script_name': False, 'mounts': [], 'log_all': False,
        'log_4xx': False, 'slow_ms': 0, 'batch': False, 'relay_path': '/nonexistent', 'token': 't'}


def packet():
    block = b''.join(struct.pack('<H', len(k)) + k.encode() + struct.pack('<H', len(v)) + v.encode()
                     for k, v in NGINX)
    return struct.pack('<BHB', 0, len(block), 0) + block


def hello(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '13')])
    return [b'Hello, world!']


def load(old_dir):
    if old_dir:
        sys.path.insert(0, old_dir)
        import berth_worker as bw
        return bw.base_environ, bw.ErrorStream, bw.DirectServer, bw.Gate, bw.RawConn
    sys.path.insert(0, os.path.join(ROOT, 'python'))
    from berth_runtime.environ import ErrorStream, base_environ
    from berth_runtime.direct_io import Gate, RawConn
    from berth_runtime.direct_server import DirectServer
    return base_environ, ErrorStream, DirectServer, Gate, RawConn


def main():
    args = sys.argv[1:]
    old_dir = None
    if '--runtime' in args:
        i = args.index('--runtime')
        old_dir = args[i + 1]
        del args[i:i + 2]
    n = int(args[0]) if args else 5000
    runs = int(args[1]) if len(args) > 1 else 7
    base_environ, ErrorStream, DirectServer, Gate, RawConn = load(old_dir)
    server = DirectServer([], hello, base_environ(1, 1, ErrorStream(sys.stderr)), print, DCFG, 1, Gate(1),
                          lambda data: None)
    data = packet()
    means = []
    for _ in range(runs):
        total = 0.0
        for _ in range(n):
            a, b = socket.socketpair()
            b.sendall(data)
            conn = RawConn(a.detach(), True)
            t0 = time.perf_counter()
            server.serve_connection(conn, '', True, 0)
            total += time.perf_counter() - t0
            if not b.recv(4096).startswith(b'HTTP/1.1 200 OK'):
                raise SystemExit('unexpected response')
            b.close()
        means.append(total / n * 1e6)
    print('python %s, %s, %d x %d requests: serve_connection min %.2f us, median %.2f us'
          % (sys.version.split()[0], 'old ' + old_dir if old_dir else 'berth_runtime', runs, n,
             min(means), statistics.median(means)))


if __name__ == '__main__':
    main()
