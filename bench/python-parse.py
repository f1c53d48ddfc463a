"""Micro-bench of the direct HTTP path's per-request Python work, stage by stage.

Run from the repository root with the worker's interpreter:
    /usr/bin/python3 bench/python-parse.py [--rounds 5] [--number 20000]
Prints, for a wrk head and a browser head, the best of `rounds` timings (µs of CPU per call, process_time: steadier than wall time on a shared machine) of:
parse (parse_request_head), judge (HttpDirect.judge: parse + the direct path's checks),
environ (build_environ), head (http_head of a hello response) and record (record_block, built
only when the access log keeps the request, i.e. unless disable-logging); then `serve`: one
keep-alive request through HttpDirect.connection() over a loopback TCP connection (peek,
parse, receive, environ, the hello app, the response write, the served count), less the same
client's send/recv with a trivial echo — everything a worker spends per request but the
epoll_wait that finds the connection ready.  Best-of, since the machine is shared."""

import argparse
import os
import selectors
import socket
import sys
import time
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'python'))
from berth_runtime.direct_io import Gate  # noqa: E402
from berth_runtime.environ import base_environ  # noqa: E402
from berth_runtime.http_direct import HttpDirect  # noqa: E402
from berth_runtime.http_direct_request import build_environ, record_block  # noqa: E402
from berth_runtime.http_head import HttpDate, http_head  # noqa: E402
from berth_runtime.http_request import parse_request_head  # noqa: E402

WRK = b'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n'
BROWSER = (b'GET /articles/2024/berth?page=2&sort=new HTTP/1.1\r\n'
           b'Host: localhost:8000\r\n'
           b'Connection: keep-alive\r\n'
           b'sec-ch-ua: "Chromium";v="120", "Not?A_Brand";v="8"\r\n'
           b'sec-ch-ua-mobile: ?0\r\n'
           b'sec-ch-ua-platform: "Linux"\r\n'
           b'Upgrade-Insecure-Requests: 1\r\n'
           b'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) '
           b'Chrome/120.0.0.0 Safari/537.36\r\n'
           b'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,'
           b'*/*;q=0.8\r\n'
           b'Sec-Fetch-Site: none\r\n'
           b'Sec-Fetch-Mode: navigate\r\n'
           b'Sec-Fetch-User: ?1\r\n'
           b'Sec-Fetch-Dest: document\r\n'
           b'Accept-Encoding: gzip, deflate, br\r\n'
           b'Accept-Language: en-GB,en;q=0.9\r\n'
           b'Cookie: sessionid=abc123; csrftoken=def456\r\n\r\n')
HEADS = (('wrk', WRK), ('browser', BROWSER))
BASE = {'SERVER_SOFTWARE': 'berth', 'wsgi.version': (1, 0), 'wsgi.url_scheme': 'http',
        'wsgi.multithread': False, 'wsgi.multiprocess': True, 'wsgi.run_once': False}
HCFG = {'buffer_size': 8192, 'limit_post': 0, 'mounts': [], 'idle_ms': 100, 'log_all': True,
        'log_4xx': False, 'slow_ms': 0}
ENDS = (('127.0.0.1', 8080), ('127.0.0.1', 40000))


def best(stmt, number, rounds):
    return min(timeit.repeat(stmt, number=number, repeat=rounds, timer=time.process_time)) / number * 1e6


def hello(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '13')])
    return [b'Hello, World!']


def serve_cost(number, rounds):
    """µs of CPU per keep-alive request served by HttpDirect.connection(), less the client."""
    server = HttpDirect([], hello, base_environ(1, 2, sys.stderr), print, dict(HCFG, log_all=False),
                        1, Gate(1), None, None)
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    conn, peer = listener.accept()
    ends = (conn.getsockname(), peer)
    sel = selectors.DefaultSelector()
    idle = {}

    def served(n):
        for _ in range(n):
            client.send(WRK)
            server.connection(conn, 0, 0, ends, sel, idle, idle.get(conn.fileno()))
            client.recv(4096)

    def echoed(n):
        for _ in range(n):
            client.send(WRK)
            conn.recv(4096)
            conn.send(b'x' * 120)
            client.recv(4096)

    served(number // 10)
    try:
        return min(best(lambda: served(1), number, 1) - best(lambda: echoed(1), number, 1) for _ in range(rounds))
    finally:
        sel.close()
        for s in (client, conn, listener):
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--number', type=int, default=20000)
    args = ap.parse_args()
    server = HttpDirect([], None, BASE, print, HCFG, 1, None, None, None)
    date = HttpDate()
    headers = [('Content-Type', 'text/plain'), ('Content-Length', '13')]
    print('python %s; µs per call, best of %d × %d' % (sys.version.split()[0], args.rounds, args.number))
    print('%-8s %7s %7s %7s %7s %7s' % ('head', 'parse', 'judge', 'environ', 'head', 'record'))
    for name, data in HEADS:
        verdict = server.judge(data)
        head, _, path, script = verdict
        env = build_environ(BASE, head, path, script, ENDS[0], ENDS[1], 0)
        row = (
            best(lambda: parse_request_head(data, 8192, 0), args.number, args.rounds),
            best(lambda: server.judge(data), args.number, args.rounds),
            best(lambda: build_environ(BASE, head, path, script, ENDS[0], ENDS[1], 0), args.number, args.rounds),
            best(lambda: http_head('200 OK', headers, date, None, True), args.number, args.rounds),
            best(lambda: record_block(env), args.number, args.rounds),
        )
        print('%-8s %7.2f %7.2f %7.2f %7.2f %7.2f' % ((name,) + row))
    print('serve (wrk head, hello app, one keep-alive connection): %.2f' % serve_cost(args.number, args.rounds))


if __name__ == '__main__':
    main()
