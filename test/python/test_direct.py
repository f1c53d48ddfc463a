"""The worker's direct serving of uwsgi connections (uwsgi-direct, python/berth_runtime/direct_*):
the environ it builds, wsgi.input from the connection, what it leaves to the master (relay),
and the DIRECT report (the vars parser and the head: test_direct_parsing.py).  Each connection is
a real socketpair; the peer side plays nginx.

Run: python3 -m unittest discover -s test/python -p 'test_*.py'   (from the repository root)"""

import json
import os
import socket
import struct
import sys
import tempfile
import select
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime.direct_io import Gate, open_direct_listeners, RawConn, unblocked  # noqa: E402
from berth_runtime.direct_report import DIRECT_RECORD  # noqa: E402
from berth_runtime.direct_server import DirectServer  # noqa: E402
from berth_runtime.django_static import django_mountpoints  # noqa: E402
from berth_runtime.environ import base_environ, ErrorStream  # noqa: E402
from berth_runtime.wire import DIRECT, HEADER, HEADER_BYTES  # noqa: E402


def block(pairs):
    return b''.join(struct.pack('<H', len(k)) + k + struct.pack('<H', len(v)) + v
                    for k, v in ((k.encode('latin-1'), v.encode('latin-1')) for k, v in pairs))


def packet(pairs, modifier1=0, body=b''):
    b = block(pairs)
    return struct.pack('<BHB', modifier1, len(b), 0) + b + body


NGINX = [('QUERY_STRING', 'a=1'), ('REQUEST_METHOD', 'GET'), ('CONTENT_TYPE', ''), ('CONTENT_LENGTH', ''),
         ('REQUEST_URI', '/app/x?a=1'), ('PATH_INFO', '/app/x'), ('SERVER_PROTOCOL', 'HTTP/1.1'),
         ('REQUEST_SCHEME', 'http'), ('REMOTE_ADDR', '10.0.0.9'), ('REMOTE_PORT', '4444'),
         ('SERVER_PORT', '80'), ('SERVER_NAME', 'site'), ('HTTP_HOST', 'site'), ('HTTP_COOKIE', 'k=v')]


def with_vars(pairs, **changes):
    out = [(k, changes.pop(k)) if k in changes else (k, v) for k, v in pairs]
    return out + list(changes.items())


def echo_app(environ, start_response):
    """JSON of the str environ items, plus the body it read (wsgi.input.read())."""
    body = environ['wsgi.input'].read()
    doc = dict((k, v) for k, v in environ.items() if isinstance(v, str))
    doc['body'] = body.decode('latin-1')
    data = json.dumps(doc).encode()
    start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(data))),
                              ('Connection', 'keep-alive'), ('Keep-Alive', 'timeout=5')])
    return [data]


DEFAULTS = {'buffer_size': 65536, 'limit_post': 0, 'manage_script_name': False, 'mounts': [], 'log_all': False,
            'log_4xx': False, 'slow_ms': 0, 'batch': False, 'relay_path': '/nonexistent', 'token': 't'}


class Harness(object):
    def __init__(self, app=echo_app, **cfg):
        conf = dict(DEFAULTS)
        conf.update(cfg)
        self.frames = []
        self.relayed = []
        base = base_environ(1, 1, ErrorStream(sys.stderr))
        self.logged = []
        self.server = DirectServer([], app, base, self.logged.append, conf, 1, Gate(1), self.frames.append)
        self.server.relay = lambda conn, data, index, host, port: (self.relayed.append((data, host, port)), conn.close())
        self.server.loop.start()  # the waiter, for connections whose request is not whole at once

    def serve_ready_until(self, done, timeout=10.0):
        """Plays the accepting thread: serves what the waiter makes ready until done() (the
        peer saw its connection closed)."""
        deadline = time.monotonic() + timeout
        ready = self.server.ready
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError('the connection was neither answered nor closed within %g s' % timeout)
            if select.select([ready.fd], [], [], 0.05)[0]:
                item = ready.take()
                if item is not None:
                    self.server.serve_ready(item)

    def request(self, data, unix=True, peer=None, then=b''):
        """Serves one connection; returns the raw response."""
        a, b = socket.socketpair()
        # From another thread: a big body fills the socket buffer before the server reads.
        writer = threading.Thread(target=lambda: (b.sendall(data), then and b.sendall(then)))
        writer.start()
        got = []

        def read():
            while True:
                try:
                    chunk = b.recv(65536)
                except ConnectionResetError:
                    return  # closed with bytes unread (a relayed peer here)
                if not chunk:
                    return
                got.append(chunk)
        reader = threading.Thread(target=read)
        reader.start()
        self.server.serve_connection(RawConn(a.detach()), peer, unix, 0)
        self.serve_ready_until(lambda: not reader.is_alive())
        writer.join()
        reader.join()
        b.close()
        return b''.join(got)

    def json(self, data, **kw):
        head, _, body = self.request(data, **kw).partition(b'\r\n\r\n')
        assert head.startswith(b'HTTP/1.1 200 OK'), head
        return head.decode('latin-1'), json.loads(body)


class ServeTest(unittest.TestCase):
    def test_a_request_is_answered_with_the_environ_a_uwsgi_user_expects(self):
        h = Harness()
        head, env = h.json(packet(NGINX))
        self.assertIn('\r\nConnection: close', head)
        self.assertNotIn('Keep-Alive', head)
        self.assertEqual((env['PATH_INFO'], env['SCRIPT_NAME'], env['QUERY_STRING']), ('/app/x', '', 'a=1'))
        self.assertEqual((env['REMOTE_ADDR'], env['HTTP_COOKIE'], env['wsgi.url_scheme']), ('10.0.0.9', 'k=v', 'http'))
        self.assertEqual(env['CONTENT_LENGTH'], '0', "nginx's empty CONTENT_LENGTH becomes 0, as the master makes it")
        self.assertEqual(h.relayed, [])

    def test_scheme_script_name_and_mounts(self):
        h = Harness()
        self.assertEqual(h.json(packet(with_vars(NGINX, HTTPS='on')))[1]['wsgi.url_scheme'], 'https')
        self.assertEqual(h.json(packet(with_vars(NGINX, UWSGI_SCHEME='https')))[1]['wsgi.url_scheme'], 'https')
        _, env = h.json(packet(with_vars(NGINX, SCRIPT_NAME='/app'), modifier1=30))
        self.assertEqual((env['SCRIPT_NAME'], env['PATH_INFO']), ('/app', '/x'))
        _, env = h.json(packet(with_vars(NGINX, SCRIPT_NAME='/app')))
        self.assertEqual((env['SCRIPT_NAME'], env['PATH_INFO']), ('/app', '/app/x'), 'modifier1 0 keeps PATH_INFO')
        _, env = Harness(manage_script_name=True).json(packet(with_vars(NGINX, SCRIPT_NAME='/app')))
        self.assertEqual((env['SCRIPT_NAME'], env['PATH_INFO']), ('/app', '/x'))
        _, env = Harness(mounts=['/app', '/ap']).json(packet(NGINX))
        self.assertEqual((env['SCRIPT_NAME'], env['PATH_INFO']), ('/app', '/x'))

    def test_a_mountpoint_written_with_a_slash_keeps_it_in_script_name(self):
        h = Harness(mounts=['/ap', '/app/'])
        _, env = h.json(packet(NGINX))
        self.assertEqual((env['SCRIPT_NAME'], env['PATH_INFO']), ('/app/', 'x'), "uWSGI's split")
        _, env = h.json(packet(with_vars(NGINX, PATH_INFO='/app', REQUEST_URI='/app')))
        self.assertEqual((env['SCRIPT_NAME'], env['PATH_INFO']), ('/app/', ''))
        _, env = h.json(packet(with_vars(NGINX, PATH_INFO='/apps/x', REQUEST_URI='/apps/x')))
        self.assertEqual((env['SCRIPT_NAME'], env['PATH_INFO']), ('', '/apps/x'), 'whole segments only')

    def test_the_body_comes_from_the_connection_and_stops_at_content_length(self):
        h = Harness()
        body = b'line one\nline two\n' * 5000
        data = packet(with_vars(NGINX, REQUEST_METHOD='POST', CONTENT_LENGTH=str(len(body))))
        # Half the body comes with the packet, half later: the app's read() waits for it.
        _, env = h.json(data + body[:1000], then=body[1000:])
        self.assertEqual(env['body'].encode('latin-1'), body)
        self.assertEqual(env['CONTENT_LENGTH'], str(len(body)))

    def test_readline_and_iteration(self):
        seen = {}

        def app(environ, start_response):
            stream = environ['wsgi.input']
            seen['first'] = stream.readline()
            seen['three'] = stream.readline(3)
            seen['rest'] = list(stream)
            start_response('204 No Content', [])
            return []
        h = Harness(app)
        body = b'a\nbcdef\nxyz'
        out = h.request(packet(with_vars(NGINX, REQUEST_METHOD='PUT', CONTENT_LENGTH=str(len(body))), body=body))
        self.assertTrue(out.startswith(b'HTTP/1.1 204 No Content\r\n'), out)
        self.assertEqual(seen, {'first': b'a\n', 'three': b'bcd', 'rest': [b'ef\n', b'xyz']})

    def test_errors_head_and_files(self):
        def app(environ, start_response):
            path = environ['PATH_INFO']
            if path == '/raise':
                raise RuntimeError('boom')
            if path == '/file':
                start_response('200 OK', [('Content-Type', 'application/octet-stream')])
                return environ['wsgi.file_wrapper'](open(environ['QUERY_STRING'], 'rb'))
            start_response('200 OK', [('Content-Length', '5')])
            return [b'hello']
        h = Harness(app)
        out = h.request(packet(with_vars(NGINX, PATH_INFO='/raise')))
        self.assertTrue(out.startswith(b'HTTP/1.1 500 Internal Server Error\r\n'), out)
        self.assertTrue(any('RuntimeError: boom' in line for line in h.logged))
        out = h.request(packet(with_vars(NGINX, REQUEST_METHOD='HEAD', PATH_INFO='/')))
        self.assertTrue(out.endswith(b'\r\n\r\n') and b'Content-Length: 5' in out, out)
        fd, path = tempfile.mkstemp()
        data = os.urandom(300000)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        try:
            out = h.request(packet(with_vars(NGINX, PATH_INFO='/file', QUERY_STRING=path)))
        finally:
            os.unlink(path)
        self.assertEqual(out.partition(b'\r\n\r\n')[2], data)

    def test_whole_bodies_get_their_length_and_close_is_called_once(self):
        closed = []

        class Body(object):
            def __init__(self, items):
                self.items = items

            def __iter__(self):
                for item in self.items:
                    if item is None:
                        raise ValueError('broken generator')
                    yield item

            def close(self):
                closed.append(1)

        def app(environ, start_response):
            start_response('200 OK', [('Content-Type', 'text/plain')])
            if environ['PATH_INFO'] == '/list':
                return [b'abc', b'de']
            return Body([b'x', None])
        h = Harness(app)
        out = h.request(packet(with_vars(NGINX, PATH_INFO='/list')))
        self.assertIn(b'\r\nContent-Length: 5\r\n', out)
        self.assertTrue(out.endswith(b'\r\n\r\nabcde'), out)
        h.request(packet(with_vars(NGINX, PATH_INFO='/gen')))
        self.assertEqual(closed, [1], 'close() once, also when the iterable raises')


    def test_accepted_connections_never_wait_to_read_and_big_sends_get_the_socket_timeout(self):
        path = tempfile.mktemp(prefix='berth-direct-', suffix='.sock')
        cfg = {'listeners': [], 'backlog': 8, 'buffer_size': 65536, 'limit_post': 0, 'timeout_ms': 1500,
               'manage_script_name': False, 'mounts': [], 'log_all': False, 'log_4xx': False, 'slow_ms': 0,
               'relay_path': '/nonexistent', 'token': ''}
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        try:
            cfg['listeners'] = [{'fd': listener.fileno(), 'unix': True, 'index': 0}]
            listeners, timeouts = open_direct_listeners({'direct': cfg, 'threads': 1})
            (sock, unix, _), = listeners
            client = socket.socket(socket.AF_UNIX)
            client.connect(path)
            fd, _ = sock._accept()
            unblocked(fd)  # as the accept loops do
            accepted = socket.socket(fileno=fd)
            conn = RawConn(fd, True, timeouts)
            self.assertIsNone(conn.read_first(), 'nothing sent yet: no wait, the waiter takes it')
            self.assertEqual(accepted.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, 16), bytes(16),
                             'the send timeout waits for a big response')
            conn.sendall(b'x' * (RawConn.SMALL_SEND + 1))
            snd = struct.unpack('ll', accepted.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, 16))
            # The kernel keeps them in clock ticks: 1.5 s may come back as 1.504 s.
            self.assertAlmostEqual(snd[0] + snd[1] / 1e6, 1.5, delta=0.02)
            self.assertTrue(os.get_blocking(fd), 'a big send waits (bounded by the timeout) instead of failing')
            accepted.close()
            client.close()
            sock.detach()  # the listener's descriptor, closed below
        finally:
            listener.close()
            os.unlink(path)

    def test_what_is_left_to_the_master(self):
        h = Harness(limit_post=10, buffer_size=400)
        self.assertLess(len(block(NGINX)), 400)
        cases = [
            (b'GET / HTTP/1.1\r\nHost: x\r\n\r\n', True, None),        # plain HTTP on the socket
            (b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', True, None),  # a TLS ClientHello
            (packet(NGINX, modifier1=5), True, None),                # another modifier1
            (packet(NGINX), False, ('192.0.2.7', 999)),              # a peer outside loopback
            (packet(with_vars(NGINX, CONTENT_LENGTH='11')), True, None),  # over limit-post
            (packet(with_vars(NGINX, HTTP_COOKIE='c' * 300)), True, None),  # over buffer-size
            (packet([('', 'x')]), True, None),                       # an empty key
            (packet(NGINX) + b'junk', True, None),                   # bytes after the request
        ]
        for data, unix, peer in cases:
            before = len(h.relayed)
            h.request(data, unix=unix, peer=peer)
            self.assertEqual(len(h.relayed), before + 1, data[:40])
            # A peer outside loopback goes to the master before anything is read from it.
            self.assertEqual(h.relayed[-1][0], data if unix else b'')
        self.assertEqual(h.relayed[3][1:], ('192.0.2.7', 999))
        h.request(packet(NGINX), unix=False, peer=('127.0.0.1', 5))
        self.assertEqual(len(h.relayed), len(cases), 'a loopback peer is served here')

    def test_static_map_paths_go_to_the_master_the_rest_is_served_here(self):
        h = Harness(static_prefixes=['/static', '/media/up'])
        relayed = [
            ('GET', '/static'), ('GET', '/static/'), ('GET', '/static/css/site.css?v=3'),
            ('HEAD', '/media/up/a.png'),
            ('GET', '/st%61tic/x.css'),   # an escape: the master decodes it
            ('GET', '//static/x.css'), ('GET', '/./static/x.css'), ('GET', '/a/../static/x'),
            ('GET', '\\static\\x'), ('GET', 'http://host/static/x'), ('GET', '/x\\..\\static'),
        ]
        served = [
            ('GET', '/'), ('GET', '/staticfoo'), ('GET', '/app/static/x'), ('GET', '/media/upload'),
            ('POST', '/static/form'), ('PUT', '/media/up/a.png'), ('GET', '/?next=/static/x'),
        ]
        for method, uri in relayed + served:
            before = len(h.relayed)
            h.request(packet(with_vars(NGINX, REQUEST_METHOD=method, REQUEST_URI=uri)))
            self.assertEqual(len(h.relayed) - before, 1 if (method, uri) in relayed else 0, (method, uri))
        without_uri = [(k, v) for k, v in NGINX if k != 'REQUEST_URI']
        h.request(packet(without_uri))
        self.assertEqual(len(h.relayed), len(relayed) + 1, 'no REQUEST_URI: the master decides')
        every = Harness(static_prefixes=['/'])
        every.request(packet(NGINX))
        self.assertEqual(len(every.relayed), 1, 'a map of /: every GET')
        none = Harness()
        none.request(packet(with_vars(NGINX, REQUEST_URI='/static/x')))
        self.assertEqual(none.relayed, [], 'without static-map nothing is relayed for its path')

    def test_a_refused_batch_policy_is_said_once_and_serving_goes_on(self):
        h = Harness(batch=True)
        real = os.sched_setscheduler

        def refuse(*args):
            raise PermissionError(1, 'Operation not permitted')
        os.sched_setscheduler = refuse
        try:
            h.server.acceptor.enter_batch()
            h.server.acceptor.enter_batch()  # a second accept thread
        finally:
            os.sched_setscheduler = real
        self.assertEqual(len(h.logged), 1, h.logged)
        self.assertIn('uwsgi-direct-batch: cannot use SCHED_BATCH here ([Errno 1] Operation not permitted)', h.logged[0])
        self.assertIn('uwsgi-direct-batch = false', h.logged[0])
        self.assertIn(b'200 OK', h.request(packet(NGINX)))

    def test_django_urls_become_mountpoints(self):
        info = {'static_url': '/static/', 'media_url': '/m%C3%A9dia/?x', 'static_root': '/s', 'media_root': '/m'}
        self.assertEqual(django_mountpoints(info), ['/static', '/m\xe9dia'])
        self.assertEqual(django_mountpoints({'static_url': 'https://cdn.example/static/', 'media_url': '//cdn/m/'}), [])
        self.assertEqual(django_mountpoints({'static_url': 'static/', 'media_url': '/'}), [])
        self.assertEqual(django_mountpoints({'error': 'ImproperlyConfigured: x'}), [])
        self.assertEqual(django_mountpoints(None), [])

    def test_the_report_carries_the_count_and_the_records_the_log_keeps(self):
        h = Harness(log_4xx=True)

        def app(environ, start_response):
            start_response('404 Not Found' if environ['PATH_INFO'] == '/missing' else '200 OK', [])
            return [b'x']
        h.server.app = app
        h.request(packet(NGINX))
        h.request(packet(with_vars(NGINX, PATH_INFO='/missing')))
        h.server.reports.report()
        self.assertEqual(len(h.frames), 1)
        length, rid, typ = HEADER.unpack_from(h.frames[0])
        payload = h.frames[0][HEADER_BYTES:]
        self.assertEqual((rid, typ, len(payload)), (0, DIRECT, length))
        meta_len = struct.unpack_from('<I', payload)[0]
        self.assertEqual(json.loads(payload[4:4 + meta_len]), {'served': 2, 'running': []})
        rec = payload[4 + meta_len:]
        status, sent, micros, end_ms, modifier1, vars_len = DIRECT_RECORD.unpack_from(rec)
        self.assertEqual((status, sent, modifier1), (404, 1, 0))
        self.assertEqual(rec[DIRECT_RECORD.size:], block(with_vars(NGINX, PATH_INFO='/missing')))
        self.assertEqual(len(rec), DIRECT_RECORD.size + vars_len, 'only the 404 is kept with log_4xx')


if __name__ == '__main__':
    unittest.main()
