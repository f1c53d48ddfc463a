"""PEP 3333's call rules as the one WSGI core (python/berth_runtime/wsgi_core.py) applies them,
run against both servers that use it: the framed server (frames to a fake master on a
socketpair) and the direct server (HTTP bytes to a fake nginx on a socketpair).  Each case
is an app; both servers must agree on whether the response succeeded, on its bytes, and on
calling the iterable's close() exactly once.

Run: python3 -m unittest discover -s test/python -p 'test_wsgi_core.py'   (from the repository root)"""

import io
import os
import socket
import struct
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime.direct_io import Gate, RawConn  # noqa: E402
from berth_runtime.direct_server import DirectServer  # noqa: E402
from berth_runtime.environ import ErrorStream, base_environ  # noqa: E402
from berth_runtime.framed_inline import InlineServer  # noqa: E402


class Body(object):
    """An iterable with close(), counting the calls; `fail_after` raises after that many items."""

    def __init__(self, items, fail_after=None, before=None):
        self.items = items
        self.fail_after = fail_after
        self.before = before  # called when iteration starts (e.g. a late start_response)
        self.closed = 0

    def __iter__(self):
        if self.before is not None:
            self.before()
        for i, item in enumerate(self.items):
            if i == self.fail_after:
                raise ValueError('the body broke')
            yield item

    def close(self):
        self.closed += 1


def case_generator(sr):
    sr('200 OK', [('Content-Type', 'text/plain')])
    return Body([b'a', b'', b'bc'])


def case_raises_midway(sr):
    sr('200 OK', [])
    return Body([b'a', b'b'], fail_after=1)


def case_body_before_start_response(sr):
    return Body([b'early'])


def case_start_response_twice(sr):
    sr('200 OK', [])
    sr('200 OK', [])
    return Body([b'x'])


class LateError(Body):
    """Yields, then calls start_response with exc_info although the head is out."""

    def __init__(self, sr):
        Body.__init__(self, [])
        self.sr = sr

    def __iter__(self):
        yield b'a'
        try:
            raise KeyError('late')
        except KeyError:
            self.sr('500 Oops', [], sys.exc_info())  # must re-raise: the head left already
        yield b'b'


def case_exc_info_after_head(sr):
    sr('200 OK', [])
    return LateError(sr)


def case_exc_info_before_head(sr):
    sr('200 OK', [])
    try:
        raise KeyError('early')
    except KeyError:
        sr('500 Oops', [('Content-Type', 'text/plain')], sys.exc_info())
    return Body([b'replaced'])


def case_write_then_empty(sr):
    write = sr('200 OK', [])
    write(b'wr')
    write(bytearray(b'itten'))
    return Body([])


def case_write_before_start_response(sr):
    try:
        sr.__self__.write(b'x')  # the request's write(), before start_response returned it
    except RuntimeError:
        sr('200 OK', [])
        return Body([b'write refused'])
    return Body([b'write accepted'])


def case_str_chunk(sr):
    sr('200 OK', [])
    return Body([b'a', 'text'])


def case_bytes_return(sr):
    # uWSGI sends a bytes return whole; PEP 3333 alone would iterate it into ints (nginx-tests' uwsgi apps do this)
    sr('200 OK', [('Content-Type', 'text/plain')])
    return b'SEE-THIS'


def case_bytearray_return(sr):
    sr('200 OK', [])
    return bytearray(b'a bytearray')


def case_memoryview_return(sr):
    sr('200 OK', [])
    return memoryview(b'a memoryview')


def case_bytes_return_without_start_response(sr):
    return b'no head'


def case_str_return(sr):
    sr('200 OK', [])
    return 'text, not bytes'


def case_no_start_response(sr):
    return [b'body']


def case_app_raises(sr):
    raise KeyError('before anything')


def case_file_wrapper_small(sr):
    sr('200 OK', [])
    return CASE_ENV['wsgi.file_wrapper'](ClosingBytes(b'from a file'))


class ClosingBytes(io.BytesIO):
    closes = 0

    def close(self):
        ClosingBytes.closes += 1
        io.BytesIO.close(self)


CASE_ENV = {}

# name -> (app, succeeds, body when it succeeds)
CASES = {
    'generator': (case_generator, True, b'abc'),
    'raises_midway': (case_raises_midway, False, None),
    'body_before_start_response': (case_body_before_start_response, False, None),
    'start_response_twice': (case_start_response_twice, False, None),
    'exc_info_after_head': (case_exc_info_after_head, False, None),
    'exc_info_before_head': (case_exc_info_before_head, True, b'replaced'),
    'write_then_empty': (case_write_then_empty, True, b'written'),
    'write_before_start_response': (case_write_before_start_response, True, b'write refused'),
    'str_chunk': (case_str_chunk, False, None),
    'no_start_response': (case_no_start_response, False, None),
    'bytes_return': (case_bytes_return, True, b'SEE-THIS'),
    'bytearray_return': (case_bytearray_return, True, b'a bytearray'),
    'memoryview_return': (case_memoryview_return, True, b'a memoryview'),
    'bytes_return_without_start_response': (case_bytes_return_without_start_response, False, None),
    'str_return': (case_str_return, False, None),
    'app_raises': (case_app_raises, False, None),
    'file_wrapper_small': (case_file_wrapper_small, True, b'from a file'),
}


class Recorder(object):
    """The app both servers run: dispatches on PATH_INFO and keeps each case's iterable."""

    def __init__(self):
        self.results = {}

    def __call__(self, environ, start_response):
        CASE_ENV.update(environ)
        name = environ['PATH_INFO'].lstrip('/')
        result = CASES[name][0](start_response)
        self.results[name] = result
        return result

    def closes(self, name):
        result = self.results.get(name)
        if isinstance(result, Body):
            return result.closed
        return None


class FramedServer(object):
    def __init__(self, app):
        self.master, self.child = socket.socketpair()
        self.logged = []
        self.server = InlineServer(self.child, app, base_environ(1, 1, ErrorStream(sys.stderr)), self.logged.append)
        self.thread = threading.Thread(target=self.server.serve)
        self.thread.start()
        self.client = wc.Worker.on(self.master)
        self.rid = 0

    def get(self, name):
        """(succeeded, status, body)."""
        self.rid += 1
        self.master.sendall(wc.request_frame(self.rid, '/' + name))
        out = self.client.response(self.rid)
        return out['error'] is None, out['status'], out['body']

    def close(self):
        self.master.sendall(wc.frame(0, wc.SHUTDOWN))
        self.thread.join(5)
        self.master.close()
        self.child.close()
        return not self.thread.is_alive()


class DirectHarness(object):
    def __init__(self, app):
        self.logged = []
        cfg = {'buffer_size': 65536, 'limit_post': 0, 'manage_script_name': False, 'mounts': [], 'log_all': False,
               'log_4xx': False, 'slow_ms': 0, 'batch': False, 'relay_path': '/nonexistent', 'token': 't'}
        self.server = DirectServer([], app, base_environ(1, 1, ErrorStream(sys.stderr)), self.logged.append, cfg, 1,
                                   Gate(1), lambda data: None)

    def get(self, name):
        pairs = [('REQUEST_METHOD', 'GET'), ('PATH_INFO', '/' + name), ('REQUEST_URI', '/' + name),
                 ('SERVER_PROTOCOL', 'HTTP/1.1'), ('REMOTE_ADDR', '127.0.0.1')]
        block = b''.join(struct.pack('<H', len(k)) + k.encode() + struct.pack('<H', len(v)) + v.encode()
                         for k, v in pairs)
        a, b = socket.socketpair()
        b.sendall(struct.pack('<BHB', 0, len(block), 0) + block)
        logged = len(self.logged)
        self.server.serve_connection(RawConn(a.detach()), '', True, 0)
        data = b''
        while True:
            chunk = b.recv(65536)
            if not chunk:
                break
            data += chunk
        b.close()
        head, _, body = data.partition(b'\r\n\r\n')
        status = head.split(b'\r\n', 1)[0][len(b'HTTP/1.1 '):].decode('latin-1')
        failed = any('failed' in line for line in self.logged[logged:])
        return not failed and not status.startswith('500 Internal'), status, body


class CoreRulesTest(unittest.TestCase):
    def check_server(self, make):
        app = Recorder()
        server = make(app)
        try:
            for name, (_, succeeds, body) in sorted(CASES.items()):
                with self.subTest(server=type(server).__name__, case=name):
                    ClosingBytes.closes = 0
                    ok, status, got = server.get(name)
                    self.assertEqual(ok, succeeds, (status, got, server.logged[-1:]))
                    if succeeds:
                        self.assertEqual(got, body)
                    if name == 'exc_info_before_head':
                        self.assertEqual(status, '500 Oops')
                    closes = app.closes(name)
                    if closes is not None:
                        self.assertEqual(closes, 1, 'close() exactly once')
                    if name == 'file_wrapper_small':
                        self.assertEqual(ClosingBytes.closes, 1, 'the file_wrapper closes its file once')
        finally:
            if isinstance(server, FramedServer):
                self.assertTrue(server.close())

    def test_framed_server(self):
        self.check_server(FramedServer)

    def test_direct_server(self):
        self.check_server(DirectHarness)

    def get_in_both_servers(self, app):
        """One GET through the framed server, then one through the direct server."""
        framed = FramedServer(app)
        try:
            framed.get('any')
        finally:
            self.assertTrue(framed.close())
        DirectHarness(app).get('any')

    def test_both_servers_run_the_app_through_the_core(self):
        from berth_runtime import wsgi_core
        seen = []
        real = wsgi_core.serve_request.__code__

        def app(environ, start_response):
            frame = sys._getframe(1)
            seen.append(frame.f_code is real)
            start_response('200 OK', [])
            return [b'x']
        self.get_in_both_servers(app)
        self.assertEqual(seen, [True, True])

    def test_the_harakiri_dump_finds_the_running_request_in_both_servers(self):
        from berth_runtime.harakiri import running_request
        found = []

        def app(environ, start_response):
            req = running_request(sys._getframe())
            found.append(req is not None and req.env is environ)
            start_response('200 OK', [])
            return [b'x']
        self.get_in_both_servers(app)
        self.assertEqual(found, [True, True])
        self.assertIsNone(running_request(sys._getframe()), 'no request runs here')


if __name__ == '__main__':
    unittest.main()
