"""Benchmark (not a test): the framed server in process, N pipelined hello requests per run.

  python3 test/python/bench_framed.py [N] [runs] [threads] [--runtime DIR]

A socketpair plays the master: a thread writes N REQUEST frames and SHUTDOWN, another reads
the responses.  threads == 1 times the InlineServer's own thread (CPU time of the thread
that runs serve()); threads > 1 times the whole process (the writer and reader included,
the same for any runtime).  --reload-on-rss MB arms the worker's after-request RSS check
(memory_guard.py) with that limit.  --runtime DIR imports an old single-file berth_worker.py from
DIR instead of the berth_runtime package.  Prints the min and the median over the runs of
CPU µs per request."""

import os
import socket
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import worker_client as wc  # noqa: E402


def hello(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '13')])
    return [b'Hello, world!']


class QuietLifeline(object):
    """The bench's channel closes at the end of a run: nothing to do then."""
    group_leader = False

    def gone(self):
        pass


def load(old_dir):
    if old_dir:
        sys.path.insert(0, old_dir)
        import berth_worker as bw
        return bw.base_environ, bw.ErrorStream, bw.InlineServer, bw.ThreadedServer
    sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
    from berth_runtime.environ import ErrorStream, base_environ
    from berth_runtime.framed_inline import InlineServer
    from berth_runtime.framed_threaded import ThreadedServer
    return base_environ, ErrorStream, InlineServer, ThreadedServer


def one_run(n, threads, parts, rss_limit_mb=0):
    base_environ, ErrorStream, InlineServer, ThreadedServer = parts
    master, child = socket.socketpair()
    base = base_environ(threads, 1, ErrorStream(sys.stderr))
    if threads == 1:
        server = InlineServer(child, hello, base, print, QuietLifeline())
    else:
        server = ThreadedServer(child, hello, base, print, threads, QuietLifeline())
    if rss_limit_mb:
        from berth_runtime.memory_guard import MemoryGuard
        server.memory_guard = MemoryGuard(rss_limit_mb << 20, lambda rss, limit: None, print)
    blob = b''.join(wc.request_frame(i + 1, '/') for i in range(n)) + wc.frame(0, wc.SHUTDOWN)
    got = [0]

    def write():
        view = memoryview(blob)
        for start in range(0, len(blob), 1 << 16):
            master.sendall(view[start:start + (1 << 16)])

    def read():
        while True:
            chunk = master.recv(1 << 18)
            if not chunk:
                return
            got[0] += len(chunk)

    writer = threading.Thread(target=write)
    reader = threading.Thread(target=read)
    reader.start()
    clock = time.thread_time if threads == 1 else time.process_time
    t0 = clock()
    writer.start()
    server.serve()
    cpu = clock() - t0
    writer.join()
    master.shutdown(socket.SHUT_RDWR)
    reader.join()
    master.close()
    child.close()
    return cpu / n * 1e6, got[0]


def main():
    args = sys.argv[1:]
    old_dir = None
    if '--runtime' in args:
        i = args.index('--runtime')
        old_dir = args[i + 1]
        del args[i:i + 2]
    rss_limit_mb = 0
    if '--reload-on-rss' in args:
        i = args.index('--reload-on-rss')
        rss_limit_mb = int(args[i + 1])
        del args[i:i + 2]
    n = int(args[0]) if args else 20000
    runs = int(args[1]) if len(args) > 1 else 7
    threads = int(args[2]) if len(args) > 2 else 1
    parts = load(old_dir)
    per_request = []
    for _ in range(runs):
        us, received = one_run(n, threads, parts, rss_limit_mb)
        per_request.append(us)
    print('python %s, %s%s, threads=%d, %d x %d requests: CPU min %.2f us/request, median %.2f'
          % (sys.version.split()[0], 'old ' + old_dir if old_dir else 'berth_runtime',
             ', reload-on-rss = %d MB' % rss_limit_mb if rss_limit_mb else '', threads, runs, n,
             min(per_request), statistics.median(per_request)))


if __name__ == '__main__':
    main()
