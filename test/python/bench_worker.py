"""Benchmark (not a test): N pipelined hello-world requests through one worker.

  python3 test/python/bench_worker.py [N] [threads] [--runtime path/to/berth_worker.py]

Prints worker CPU µs per request (the figure the design budgets) and wall µs.  --runtime
starts another launcher (e.g. an old single-file runtime, for before/after figures)."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client  # noqa: E402
from worker_client import FULL, SHUTDOWN, Worker, cpu_seconds, frame, request_frame  # noqa: E402


def main():
    args = sys.argv[1:]
    if '--runtime' in args:
        i = args.index('--runtime')
        worker_client.WORKER = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    n = int(args[0]) if args else 50000
    threads = int(args[1]) if len(args) > 1 else 1
    worker = Worker(module='hello', threads=threads)
    info = worker.ready()
    blob = b''.join(request_frame(i + 1, '/') for i in range(n))

    def writer():
        view = memoryview(blob)
        for start in range(0, len(blob), 1 << 16):
            worker.send(view[start:start + (1 << 16)])

    cpu0 = cpu_seconds(info['pid'])
    t0 = time.perf_counter()
    thread = threading.Thread(target=writer)
    thread.start()
    seen = 0
    while seen < n:
        rid, typ, payload = worker.recv_frame()
        if typ != FULL:
            raise SystemExit('unexpected frame 0x%02x: %r' % (typ, payload[:200]))
        seen += 1
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(info['pid']) - cpu0
    thread.join()
    worker.send(frame(0, SHUTDOWN))
    worker.close()
    print('python %s, threads=%d, %d requests: worker CPU %.2f us/request, wall %.2f us/request'
          % (info['version'], threads, n, cpu / n * 1e6, wall / n * 1e6))


if __name__ == '__main__':
    main()
