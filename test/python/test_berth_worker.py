"""Unit tests for python/berth_worker.py's pure parts and an in-process serve loop.

Run: python3 -m unittest discover -s test/python   (from the repository root)"""

import json
import os
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime.environ import base_environ, build_environ, ErrorStream  # noqa: E402
from berth_runtime.framed_inline import InlineServer  # noqa: E402
from berth_runtime.framed_server import Request  # noqa: E402
from berth_runtime.responses import describe_bad_body, encode_head, ResponseInvalid  # noqa: E402
from berth_runtime.wire import ACK, BODY_IN, CREDIT, frame, frame_u32, FrameReader, MAX_FRAME_BYTES, \
    ProtocolError, REQUEST  # noqa: E402
from berth_runtime.wsgi_input import EMPTY_INPUT, InputStream  # noqa: E402


class FrameReaderTest(unittest.TestCase):
    def frames(self):
        return [(1, REQUEST, b'\x00A\x00b'), (1, BODY_IN, b''), (7, ACK, b'\x01\x00\x00\x00'),
                (2**32 - 1, BODY_IN, b'x' * 1000)]

    def blob(self):
        return b''.join(frame(*f) for f in self.frames())

    def test_whole_stream_in_one_chunk(self):
        self.assertEqual(FrameReader().feed(self.blob()), self.frames())

    def test_byte_by_byte(self):
        reader, got = FrameReader(), []
        blob = self.blob()
        for i in range(len(blob)):
            got.extend(reader.feed(blob[i:i + 1]))
        self.assertEqual(got, self.frames())

    def test_trailing_partial_frame_is_kept(self):
        reader, blob = FrameReader(), self.blob()
        self.assertEqual(reader.feed(blob[:-10]), self.frames()[:3])
        self.assertEqual(reader.feed(blob[-10:]), self.frames()[3:])

    def test_oversize_frame_is_a_protocol_error(self):
        with self.assertRaises(ProtocolError):
            FrameReader().feed(struct.pack('<IIB', MAX_FRAME_BYTES + 1, 1, BODY_IN))

    def test_frame_u32(self):
        self.assertEqual(frame_u32(3, CREDIT, 65536), frame(3, CREDIT, struct.pack('<I', 65536)))


class EnvironTest(unittest.TestCase):
    def test_block_over_base(self):
        base = base_environ(1, 4, ErrorStream(sys.stderr))
        env = build_environ(base, wc.environ_block([('PATH_INFO', '/caf\xe9'), ('wsgi.url_scheme', 'https'),
                                                       ('HTTP_X', '')]))
        self.assertEqual(env['PATH_INFO'], '/caf\xe9')
        self.assertEqual(env['wsgi.url_scheme'], 'https')
        self.assertEqual(env['HTTP_X'], '')
        self.assertEqual(env['wsgi.version'], (1, 0))
        self.assertIs(env['wsgi.multithread'], False)
        self.assertIs(env['wsgi.multiprocess'], True)
        self.assertEqual(base['wsgi.url_scheme'], 'http')

    def test_empty_block(self):
        base = base_environ(2, 1, None)
        env = build_environ(base, b'')
        self.assertEqual(env, base)
        self.assertIsNot(env, base)


class ScriptedServer(object):
    """Stands in for a Server: each wait() delivers the next scripted input event."""

    def __init__(self, events):
        self.events = list(events)
        self.sent = []

    def wait(self, req, ready):
        while not ready():
            event = self.events.pop(0)
            if event is None:
                req.input.finish()
            else:
                req.input.feed(event)

    def send_parts(self, parts):
        self.sent.append(b''.join(parts))

    def credits(self):
        return [struct.unpack('<IIBI', f)[3] for f in self.sent]


def stream(*events):
    req = Request(9, {}, ScriptedServer(events), None)
    req.input = InputStream(req)
    return req.input


class InputStreamTest(unittest.TestCase):
    def test_read_all(self):
        self.assertEqual(stream(b'ab', b'cd', None).read(), b'abcd')

    def test_read_n_returns_exactly_n_until_the_end(self):
        s = stream(b'abc', b'defg', None)
        self.assertEqual([s.read(3), s.read(3), s.read(3), s.read(3)], [b'abc', b'def', b'g', b''])

    def test_read_minus_one_and_none(self):
        self.assertEqual(stream(b'xy', None).read(-1), b'xy')
        self.assertEqual(stream(b'xy', None).read(None), b'xy')

    def test_readline(self):
        s = stream(b'one\ntw', b'o\n', b'three', None)
        self.assertEqual([s.readline(), s.readline(), s.readline(), s.readline()],
                         [b'one\n', b'two\n', b'three', b''])

    def test_readline_limit(self):
        s = stream(b'abcdefg\nhi\n', None)
        self.assertEqual([s.readline(3), s.readline(3), s.readline(3), s.readline(3), s.readline(3)],
                         [b'abc', b'def', b'g\n', b'hi\n', b''])

    def test_readlines_hint_and_iteration(self):
        self.assertEqual(stream(b'a\nb\nc\n', None).readlines(3), [b'a\n', b'b\n'])
        self.assertEqual(stream(b'a\nb\nc\n', None).readlines(2), [b'a\n'])  # like io.IOBase
        self.assertEqual(list(stream(b'a\nb', b'\nc', None)), [b'a\n', b'b\n', b'c'])

    def test_never_blocks_past_the_end(self):
        s = stream(b'x', None)
        self.assertEqual(s.read(), b'x')
        self.assertEqual(s.read(), b'')  # the script is empty: another wait() would raise
        self.assertEqual(s.readline(), b'')

    def test_credit_batches_and_final_credit(self):
        chunk = b'z' * 40000
        s = stream(chunk, chunk, chunk, None)
        while s.read(1000):
            pass
        self.assertEqual(s._req.server.credits(), [80000, 40000])

    def test_empty_input(self):
        self.assertEqual(EMPTY_INPUT.read(), b'')
        self.assertEqual(list(EMPTY_INPUT), [])


class StartResponseTest(unittest.TestCase):
    def req(self):
        return Request(1, {}, ScriptedServer([]), None)

    def test_returns_write(self):
        r = self.req()
        self.assertEqual(r.start_response('200 OK', [('A', 'b')]), r.write)

    def test_type_checks(self):
        for status, headers, error in [(b'200 OK', [], TypeError), ('200', [], ValueError),
                                       ('20 OK', [], ValueError), ('200 OK', (('A', 'b'),), TypeError),
                                       ('200 OK', [('A', 1)], TypeError), ('200 OK', [('A',)], TypeError),
                                       ('200 OK', ['A: b'], TypeError)]:
            with self.assertRaises(error, msg=repr((status, headers))):
                self.req().start_response(status, headers)

    def test_lenient_about_list_pairs(self):
        self.req().start_response('200 OK', [['A', 'b']])

    def test_twice_without_exc_info(self):
        r = self.req()
        r.start_response('200 OK', [])
        with self.assertRaises(RuntimeError):
            r.start_response('200 OK', [])

    def test_exc_info_before_head_replaces(self):
        r = self.req()
        r.start_response('200 OK', [])
        try:
            raise ValueError('x')
        except ValueError:
            r.start_response('500 Error', [('X', '1')], sys.exc_info())
        self.assertEqual((r.status, r.headers), ('500 Error', [('X', '1')]))

    def test_exc_info_after_head_reraises(self):
        r = self.req()
        r.start_response('200 OK', [])
        r.head_sent = True
        try:
            raise ValueError('original')
        except ValueError:
            with self.assertRaisesRegex(ValueError, 'original'):
                r.start_response('500 Error', [], sys.exc_info())

    def test_write_before_start_response(self):
        with self.assertRaises(RuntimeError):
            self.req().write(b'x')


class EncodeHeadTest(unittest.TestCase):
    def test_ok(self):
        self.assertEqual(encode_head('200 OK', [('A', 'b'), ('C', '\xe9')]), b'200 OK\0A\0b\0C\0\xe9')

    def test_refusals(self):
        for headers, reason in [([('A', 'x\0y')], 'NUL'), ([('A', 'x\r\ny')], 'CR'),
                                ([('A', '\u20ac')], 'latin-1'), ([('A\0', 'x')], 'NUL')]:
            with self.assertRaisesRegex(ResponseInvalid, reason):
                encode_head('200 OK', headers)

    def test_describe_bad_body(self):
        self.assertEqual(describe_bad_body([b'a', 'b']), 'response body item 1 is str, not bytes')


class InlineServeTest(unittest.TestCase):
    """Runs InlineServer.serve in a thread on a socketpair (SHUTDOWN ends it)."""

    def setUp(self):
        self.master, child = socket.socketpair()
        self.child = child

        def app(environ, start_response):
            path = environ['PATH_INFO']
            if path == '/echo':
                start_response('200 OK', [('Content-Type', 'text/plain')])
                return [environ['wsgi.input'].read()]
            if path == '/gen':
                start_response('200 OK', [])
                return (bytes([c]) * 3 for c in b'abc')
            if path == '/raise':
                raise KeyError('nope')
            start_response('200 OK', [('Content-Length', '2')])
            return [b'hi']

        base = base_environ(1, 1, ErrorStream(sys.stderr))
        self.server = InlineServer(child, app, base, lambda line: None)
        self.thread = threading.Thread(target=self.server.serve)
        self.thread.start()
        self.client = wc.Worker.__new__(wc.Worker)
        self.client.sock, self.client.buf = self.master, b''

    def tearDown(self):
        self.master.sendall(wc.frame(0, wc.SHUTDOWN))
        self.thread.join(5)
        self.assertFalse(self.thread.is_alive())
        self.master.close()
        self.child.close()

    def test_pipelined_requests_body_and_stream(self):
        self.master.sendall(wc.request_frame(1, '/') + wc.request_frame(2, '/echo', 'POST', has_body=True)
                            + wc.frame(2, wc.BODY_IN, b'hello ') + wc.request_frame(3, '/gen'))
        self.assertEqual(self.client.response(1)['body'], b'hi')
        self.master.sendall(wc.frame(2, wc.BODY_IN, b'world') + wc.frame(2, wc.BODY_END))
        rid, typ, payload = self.client.recv_frame()
        self.assertEqual((rid, typ, payload), (2, wc.CREDIT, struct.pack('<I', 11)))
        self.assertEqual(self.client.response(2)['body'], b'hello world')
        third = self.client.response(3)
        self.assertEqual((third['kind'], third['body']), ('stream', b'aaabbbccc'))

    def test_exception_then_keeps_serving(self):
        self.master.sendall(wc.request_frame(1, '/raise') + wc.request_frame(2, '/'))
        self.assertIn("KeyError: 'nope'", self.client.response(1)['error'])
        self.assertEqual(self.client.response(2)['status'], '200 OK')


class ProcessTest(unittest.TestCase):
    """The worker as the master starts it, under the interpreter running the tests."""

    def start(self, **config):
        worker = wc.Worker(**config)
        self.addCleanup(worker.close)
        return worker

    def test_ready_then_hello(self):
        w = self.start()
        info = w.ready()
        self.assertEqual(info['pid'], w.proc.pid)
        self.assertEqual(info['sys_path'][0], wc.APPS)
        w.send(wc.request_frame(5, '/hello'))
        self.assertEqual(w.response(5)['body'], b'Hello, World!')

    def test_import_failure_exits_4(self):
        w = self.start(module='import_error')
        rid, typ, payload = w.recv_frame()
        info = json.loads(payload)
        self.assertEqual((typ, info['kind']), (wc.BOOT_FAIL, 'import'))
        self.assertIn('this_module_does_not_exist_berth', info['traceback'])
        self.assertEqual(w.proc.wait(10), 4)
        self.assertIn('this_module_does_not_exist_berth', w.stderr_text())

    def test_missing_callable_names_what_exists(self):
        w = self.start(module='no_attr')
        info = json.loads(w.recv_frame()[2])
        self.assertEqual(info['kind'], 'callable')
        self.assertIn('app', info['message'])
        self.assertEqual(w.proc.wait(10), 4)

    def test_chdir_failure_exits_3(self):
        w = self.start(chdir='/nonexistent/berth')
        self.assertEqual(json.loads(w.recv_frame()[2])['kind'], 'chdir')
        self.assertEqual(w.proc.wait(10), 3)

    def test_bad_config_exits_3(self):
        w = self.start(threads=0)
        self.assertEqual(json.loads(w.recv_frame()[2])['kind'], 'config')
        self.assertEqual(w.proc.wait(10), 3)

    def test_check_mode_exits_0_after_ready(self):
        w = self.start(check=True)
        w.ready()
        self.assertEqual(w.proc.wait(10), 0)

    def test_wsgi_file(self):
        w = self.start(module=None, wsgi_file=os.path.join(wc.APPS, 'hello.wsgi'), chdir=None)
        w.ready()
        w.send(wc.request_frame(1, '/'))
        body = json.loads(w.response(1)['body'])
        self.assertEqual(body, {'file': os.path.join(wc.APPS, 'hello.wsgi'), 'name': 'hello'})

    def test_eof_exits_5_even_while_app_sleeps(self):
        w = self.start()
        w.ready()
        w.send(wc.request_frame(1, '/sleep', query='s=30'))
        w.sock.close()
        self.assertEqual(w.proc.wait(5), 5)

    def test_threads_run_concurrently_and_sigterm_is_graceful(self):
        w = self.start(threads=4)
        w.ready()
        t0 = time.monotonic()
        w.send(b''.join(wc.request_frame(i + 1, '/sleep', query='s=0.5') for i in range(4)))
        time.sleep(0.2)
        w.proc.terminate()
        time.sleep(0.1)  # let the handler run before the next request arrives
        w.send(wc.request_frame(9, '/hello'))
        frames = [w.recv_frame() for _ in range(5)]
        self.assertLess(time.monotonic() - t0, 1.4)
        self.assertEqual(frames[0][:2], (9, wc.ERROR))
        self.assertEqual(sorted((rid, typ) for rid, typ, _ in frames[1:]), [(i, wc.FULL) for i in range(1, 5)])
        self.assertEqual(w.proc.wait(5), 0)

    def test_shutdown_frame_finishes_in_flight_requests(self):
        w = self.start()
        w.ready()
        w.send(wc.request_frame(1, '/sleep', query='s=0.2') + wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(w.response(1)['body'], b'slept')
        self.assertEqual(w.proc.wait(5), 0)

    def test_usage_exits_2(self):
        import subprocess
        self.assertEqual(subprocess.call([sys.executable, wc.WORKER, '--help'], stderr=subprocess.DEVNULL), 2)


if __name__ == '__main__':
    unittest.main()
