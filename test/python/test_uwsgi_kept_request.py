"""Keep-alive on uwsgi-direct (python/berth_runtime/uwsgi_kept_request.py): a packet carrying a
Berth front's BERTH_KEEPALIVE offer is answered framed and marked, and the same connection carries
the next packet; without the offer (or with a token that cannot go into a field) nothing changes.
Real socketpairs; the peer side plays the front.

Run: python3 -m unittest discover -s test/python -p 'test_*.py'   (from the repository root)"""

import json
import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_direct import Harness, NGINX, echo_app, packet  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'python'))
from berth_runtime.direct_io import RawConn  # noqa: E402

TOKEN = 'tok-EN_42'
OFFER = NGINX + [('BERTH_KEEPALIVE', TOKEN)]


def read_response(sock):
    """One HTTP/1.1 response framed by Content-Length or chunks: (head text, body bytes)."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError('closed before the head: %r' % data)
        data += chunk
    head, _, rest = data.partition(b'\r\n\r\n')
    text = head.decode('latin-1')
    fields = dict((k.lower(), v.strip()) for k, _, v in (l.partition(':') for l in text.split('\r\n')[1:]))
    if 'content-length' in fields:
        n = int(fields['content-length'])
        while len(rest) < n:
            rest += sock.recv(65536)
        return text, rest[:n]
    assert fields.get('transfer-encoding') == 'chunked', text
    while not rest.endswith(b'0\r\n\r\n'):
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError('closed inside a chunked body')
        rest += chunk
    body, pos = b'', 0
    while True:
        end = rest.index(b'\r\n', pos)
        size = int(rest[pos:end], 16)
        if size == 0:
            return text, body
        body += rest[end + 2:end + 2 + size]
        pos = end + 4 + size


def streamed_app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Berth-Keep-Alive', 'forged')])
    yield b'part 1\n'
    yield b'part 2\n'


class KeptConnection(object):
    """One connection to the harness's server, its serving played by this thread and the waiter."""

    def __init__(self, h):
        self.h = h
        a, self.peer = socket.socketpair()
        self.server_side = RawConn(a.detach())
        self.peer.settimeout(10)

    def exchange(self, data, first=False):
        self.peer.sendall(data)
        got = []
        reader = threading.Thread(target=lambda: got.append(read_response(self.peer)))
        reader.start()
        if first:
            self.h.server.serve_connection(self.server_side, None, True, 0)
        self.h.serve_ready_until(lambda: not reader.is_alive())
        reader.join()
        return got[0]


class KeptRequestTest(unittest.TestCase):
    def test_an_offer_gets_a_framed_marked_response_and_the_connection_serves_the_next_packet(self):
        h = Harness()
        c = KeptConnection(h)
        for i in range(3):
            head, body = c.exchange(packet(OFFER), first=(i == 0))
            self.assertIn('\r\nBerth-Keep-Alive: ' + TOKEN, head)
            self.assertNotIn('Connection: close', head)
            env = json.loads(body)
            self.assertNotIn('BERTH_KEEPALIVE', env)  # the app never sees the offer
            self.assertEqual(env['PATH_INFO'], '/app/x')
        c.peer.close()

    def test_a_response_of_unknown_length_goes_chunked_and_the_apps_own_marker_is_dropped(self):
        h = Harness(app=streamed_app)
        c = KeptConnection(h)
        head, body = c.exchange(packet(OFFER), first=True)
        self.assertIn('Transfer-Encoding: chunked', head)
        self.assertEqual(head.count('Berth-Keep-Alive'), 1)
        self.assertIn('Berth-Keep-Alive: ' + TOKEN, head)
        self.assertEqual(body, b'part 1\npart 2\n')
        head, body = c.exchange(packet(OFFER))
        self.assertEqual(body, b'part 1\npart 2\n')
        c.peer.close()

    def test_without_an_offer_or_with_an_unusable_token_the_response_closes_as_before(self):
        h = Harness()
        for offer in (NGINX, NGINX + [('BERTH_KEEPALIVE', 'bad token\r\nX: y')]):
            raw = h.request(packet(offer))
            self.assertIn(b'\r\nConnection: close', raw)
            self.assertNotIn(b'Berth-Keep-Alive', raw)

    def test_an_app_that_says_connection_close_ends_the_kept_connection(self):
        def closing_app(environ, start_response):
            start_response('200 OK', [('Content-Length', '2'), ('Connection', 'close')])
            return [b'ok']
        h = Harness(app=closing_app)
        raw = h.request(packet(OFFER))  # returns once the server closed the connection
        self.assertIn(b'Connection: close', raw)
        self.assertTrue(raw.endswith(b'\r\n\r\nok'))


if __name__ == '__main__':
    unittest.main()
