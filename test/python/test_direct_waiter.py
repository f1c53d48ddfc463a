"""The direct path's waiter and relays (direct_waiter.py, relay.py, event_loop.py): a request
whole at accept is served without them; one in pieces is collected and then served; one that
never completes is closed at the socket timeout; a peer that closes mid-body is relayed, and
the app never sees it; idle peers and relayed ones cost no thread.  Real socketpairs and a
real unix socket playing the master.

Run: python3 -m unittest discover -s test/python -p 'test_*.py'   (from the repository root)"""

import json
import os
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_direct import DEFAULTS, NGINX, Harness, packet, with_vars  # noqa: E402

from berth_runtime.direct_io import Gate, RawConn, SocketTimeouts, unblocked  # noqa: E402
from berth_runtime.direct_server import DirectServer  # noqa: E402
from berth_runtime.direct_waiter import MAX_BUFFERED_BYTES  # noqa: E402
from berth_runtime.environ import base_environ, ErrorStream  # noqa: E402
from berth_runtime.event_loop import EventLoop  # noqa: E402
from berth_runtime.relay import Relays  # noqa: E402
from berth_runtime.wire import HEADER, HEADER_BYTES, RELAY  # noqa: E402


class Counting(object):
    """A WSGI app that counts its calls and echoes the length of the body it read."""

    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        body = environ['wsgi.input'].read()
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'read %d' % len(body)]


def short_timeout_harness(app, read_s=0.3):
    """A Harness whose server waits read_s for a request (the socket timeout)."""
    h = Harness.__new__(Harness)
    h.frames, h.relayed, h.logged = [], [], []
    base = base_environ(1, 1, ErrorStream(sys.stderr))
    h.server = DirectServer([], app, base, h.logged.append, dict(DEFAULTS), 1, Gate(1), h.frames.append,
                            SocketTimeouts(read_s))
    h.server.relay = lambda conn, data, index, host, port: (h.relayed.append((data, host, port)), conn.close())
    h.server.loop.start()
    return h


def accepted(sock):
    """One end of a socketpair as an accepting thread gets a unix connection: non-blocking."""
    fd = sock.detach()
    unblocked(fd)
    return RawConn(fd, True)


def read_all(sock, timeout=5.0):
    sock.settimeout(timeout)
    out = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b''.join(out)
        out.append(chunk)


class WaiterTest(unittest.TestCase):
    def test_a_request_whole_at_accept_is_served_without_the_waiter(self):
        app = Counting()
        h = Harness(app)
        h.server.waiter.adopt = lambda *a: self.fail('the waiter was asked to wait for a whole request')
        a, b = socket.socketpair()
        b.sendall(packet(with_vars(NGINX, REQUEST_METHOD='POST', CONTENT_LENGTH='5'), body=b'hello'))
        h.server.serve_connection(accepted(a), None, True, 0)
        self.assertTrue(read_all(b).endswith(b'read 5'))
        self.assertEqual(app.calls, 1)
        b.close()

    def test_a_request_in_pieces_is_collected_then_served_whole(self):
        app = Counting()
        h = Harness(app)
        body = os.urandom(200000)
        data = packet(with_vars(NGINX, REQUEST_METHOD='PUT', CONTENT_LENGTH=str(len(body))), body=body)
        a, b = socket.socketpair()
        b.sendall(data[:3])  # not even the packet head
        h.server.serve_connection(accepted(a), None, True, 0)
        self.assertEqual(app.calls, 0, 'nothing runs before the request is whole')
        for i in range(3, len(data), 50000):
            b.sendall(data[i:i + 50000])
        out = []
        reader = threading.Thread(target=lambda: out.append(read_all(b)))
        reader.start()
        h.serve_ready_until(lambda: not reader.is_alive())
        reader.join()
        self.assertTrue(out[0].startswith(b'HTTP/1.1 200 OK'), out[0][:100])
        self.assertTrue(out[0].endswith(b'read %d' % len(body)))
        self.assertEqual((app.calls, h.relayed), (1, []))
        b.close()

    def test_a_request_that_never_completes_is_closed_at_the_socket_timeout(self):
        app = Counting()
        h = short_timeout_harness(app)
        threads = threading.active_count()
        peers = []
        for first in (b'', b'\x00', packet(with_vars(NGINX, CONTENT_LENGTH='10'), body=b'12345')):
            a, b = socket.socketpair()
            if first:
                b.sendall(first)
            h.server.serve_connection(accepted(a), None, True, 0)
            peers.append(b)
        self.assertEqual(threading.active_count(), threads, 'waiting peers cost no thread')
        for b in peers:
            self.assertEqual(read_all(b), b'', 'closed without an answer, as the master closes a silent peer')
            b.close()
        self.assertEqual((app.calls, h.relayed), (0, []))
        self.assertTrue(any('sent no whole request within socket-timeout (0.3 s)' in line for line in h.logged),
                        h.logged)

    def test_a_peer_that_closes_mid_body_goes_to_the_master_never_to_the_app(self):
        app = Counting()
        h = Harness(app)
        data = packet(with_vars(NGINX, REQUEST_METHOD='POST', CONTENT_LENGTH='100'), body=b'x' * 10)
        a, b = socket.socketpair()
        b.sendall(data)
        b.shutdown(socket.SHUT_WR)  # FIN: 90 body bytes will never come
        h.server.serve_connection(accepted(a), None, True, 0)
        h.serve_ready_until(lambda: bool(h.relayed))
        self.assertEqual(h.relayed, [(data, '', 0)], 'the master gets every byte and answers 400')
        self.assertEqual(app.calls, 0)
        b.close()

    def test_a_body_over_the_buffer_bound_goes_to_the_master_at_once(self):
        h = Harness(Counting())
        head = packet(with_vars(NGINX, REQUEST_METHOD='POST', CONTENT_LENGTH=str(MAX_BUFFERED_BYTES)))
        a, b = socket.socketpair()
        b.sendall(head + b'x' * 100)
        h.server.serve_connection(accepted(a), None, True, 0)
        self.assertEqual(h.relayed, [(head + b'x' * 100, '', 0)], 'relayed by the accepting thread, nothing buffered')
        b.close()

    def test_hundreds_of_idle_peers_cost_no_thread_and_delay_nothing(self):
        app = Counting()
        h = Harness(app)
        threads = threading.active_count()
        idle = []
        for _ in range(300):
            a, b = socket.socketpair()
            h.server.serve_connection(accepted(a), None, True, 0)
            idle.append(b)
        self.assertEqual(threading.active_count(), threads)
        self.assertIn(b'200 OK', h.request(packet(NGINX)))
        self.assertEqual(app.calls, 1)
        for b in idle:
            b.close()


class RelayTest(unittest.TestCase):
    def test_relays_share_one_thread_and_carry_both_ways_with_a_half_close(self):
        path = tempfile.mktemp(prefix='berth-relay-', suffix='.sock')
        master = socket.socket(socket.AF_UNIX)
        master.bind(path)
        master.listen(64)
        logged = []
        loop = EventLoop(0.1, 'test-relay-loop', logged.append)
        loop.start()
        relays = Relays(loop, path, 'tok', logged.append)
        threads = threading.active_count()
        clients = []
        try:
            for i in range(20):
                a, b = socket.socketpair()
                relays.start(accepted(a), b'first%d' % i, 3, '', 0)
                clients.append(b)
            self.assertEqual(threading.active_count(), threads, 'no thread per relay')
            for i, b in enumerate(clients):
                up, _ = master.accept()
                up.settimeout(5)
                got = b''
                while len(got) < HEADER_BYTES or len(got) < HEADER_BYTES + HEADER.unpack_from(got)[0]:
                    got += up.recv(65536)
                length, rid, typ = HEADER.unpack_from(got)
                intro = json.loads(got[HEADER_BYTES:HEADER_BYTES + length])
                self.assertEqual((typ, intro['token'], intro['listener']), (RELAY, 'tok', 3))
                rest = got[HEADER_BYTES + length:]
                b.sendall(b'-more')
                b.shutdown(socket.SHUT_WR)  # the client's request is whole
                rest += read_all(up)  # the half-close reaches the master
                self.assertTrue(rest.startswith(b'first'), rest)
                self.assertTrue(rest.endswith(b'-more'), rest)
                up.sendall(b'answer %d ' % i + b'z' * 300000)  # more than a socket buffer takes
                up.close()
                answer = read_all(b)
                self.assertEqual(answer, b'answer %d ' % i + b'z' * 300000)
                b.close()
            deadline = time.monotonic() + 5
            while relays.count() and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertEqual(relays.count(), 0, 'every relay closed once the master ended it')
            self.assertEqual(logged, [])
        finally:
            master.close()
            os.unlink(path)


if __name__ == '__main__':
    unittest.main()
