"""The worker's side of the FILE exchange (python/berth_worker.py): which wsgi.file_wrapper
bodies the master is asked to send itself, and what the worker does with each answer
(FILE_OPENED, FILE_FAILED, ABORT) in the inline and the threaded server.

Run: python3 -m unittest discover -s test/python -p 'test_*.py'   (from the repository root)"""

import io
import os
import socket
import struct
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime.environ import base_environ, ErrorStream, FileWrapper  # noqa: E402
from berth_runtime.framed_inline import InlineServer  # noqa: E402
from berth_runtime.responses import FILE_FRAMES, file_plan  # noqa: E402
from berth_runtime.wire import FILE, FILE_FAILED, FILE_OPENED  # noqa: E402

SIZE = 200000
DATA = bytes(range(256)) * (SIZE // 256) + b'z' * (SIZE % 256)


class Temp(object):
    def __init__(self, data):
        fd, self.path = tempfile.mkstemp(prefix='berth-file-')
        with os.fdopen(fd, 'wb') as f:
            f.write(data)

    def remove(self):
        os.unlink(self.path)


@unittest.skipUnless(FILE_FRAMES, 'FILE frames need Linux')
class FilePlanTest(unittest.TestCase):
    def setUp(self):
        self.big = Temp(DATA)
        self.small = Temp(b'tiny')
        self.opened = []

    def tearDown(self):
        for f in self.opened:
            f.close()
        self.big.remove()
        self.small.remove()

    def open(self, path, mode='rb', **kw):
        f = open(path, mode, **kw)
        self.opened.append(f)
        return f

    def plan(self, filelike, headers=()):
        return file_plan(FileWrapper(filelike), list(headers))

    def test_regular_file_from_its_position(self):
        f = self.open(self.big.path)
        self.assertEqual(self.plan(f), (f.fileno(), 0, SIZE))
        f.seek(1000)
        self.assertEqual(self.plan(f), (f.fileno(), 1000, SIZE - 1000))
        f.read(10)  # buffered: tell() is the logical position, not the descriptor's
        self.assertEqual(self.plan(f), (f.fileno(), 1010, SIZE - 1010))
        raw = self.open(self.big.path, 'rb', buffering=0)
        self.assertEqual(self.plan(raw), (raw.fileno(), 0, SIZE))

    def test_content_length_caps_the_range(self):
        f = self.open(self.big.path)
        self.assertEqual(self.plan(f, [('content-length', '150000')])[2], 150000)
        self.assertEqual(self.plan(f, [('Content-Length', str(SIZE * 2))])[2], SIZE)
        self.assertEqual(self.plan(f, [('Content-Length', 'junk')])[2], SIZE)
        self.assertIsNone(self.plan(f, [('Content-Length', '10')]), 'under the minimum: read in Python')

    def test_not_real_files_stream(self):
        self.assertIsNone(self.plan(io.BytesIO(DATA)))
        self.assertIsNone(self.plan(self.open(self.big.path, 'r', encoding='latin-1')), 'text file')
        self.assertIsNone(self.plan(self.open(self.small.path)), 'smaller than FILE_MIN_BYTES')
        f = self.open(self.big.path)
        f.seek(SIZE + 10)
        self.assertIsNone(self.plan(f), 'positioned past the end')
        self.assertIsNone(self.plan(self.open(self.big.path, 'ab')), 'not readable')
        r, w = os.pipe()
        pipe = os.fdopen(r, 'rb')
        self.opened.append(pipe)
        os.close(w)
        self.assertIsNone(self.plan(pipe), 'a pipe')
        a, b = socket.socketpair()
        try:
            self.assertIsNone(self.plan(a.makefile('rb')), 'a socket')
        finally:
            a.close()
            b.close()

        class NoFileno(object):
            def read(self, n):
                return b''

        class BadFileno(NoFileno):
            def fileno(self):
                raise io.UnsupportedOperation('fileno')

            def tell(self):
                return 0

        self.assertIsNone(self.plan(NoFileno()))
        self.assertIsNone(self.plan(BadFileno()))

    def test_off_when_not_linux(self):
        f = self.open(self.big.path)
        self.assertIsNotNone(self.plan(f))
        self.assertIsNone(file_plan(FileWrapper(f), [], enabled=False))


class CountingFile(io.BufferedReader):
    closes = 0

    def close(self):
        type(self).closes += 1
        io.BufferedReader.close(self)


def until(worker, rid, types):
    """Frames of rid up to the first whose type is in `types` (ACKing BODY frames)."""
    got = []
    while True:
        fid, typ, payload = worker.recv_frame()
        assert fid == rid, (fid, rid)
        got.append((typ, payload))
        if typ == wc.BODY:
            worker.send(wc.frame(rid, wc.ACK, struct.pack('<I', len(payload))))
        if typ in types:
            return got


def head_and_file(test, worker, rid, path, query=''):
    """Sends the request; checks that HEAD and FILE come back; returns (fd, offset, length)."""
    worker.send(wc.request_frame(rid, path, query=query))
    frames = until(worker, rid, (FILE, wc.END, wc.ERROR))
    test.assertEqual([t for t, _ in frames], [wc.HEAD, FILE])
    return struct.unpack('<IQQ', frames[1][1])


@unittest.skipUnless(FILE_FRAMES, 'FILE frames need Linux')
class FileExchangeTest(unittest.TestCase):
    """InlineServer in this process (ThreadedServer's reader os._exit()s at EOF: see below)."""

    def setUp(self):
        self.temp = Temp(DATA)
        CountingFile.closes = 0
        self.files = []
        master, child = socket.socketpair()
        self.master_sock, self.child = master, child

        def app(environ, start_response):
            start_response('200 OK', [('Content-Type', 'application/octet-stream')])
            if environ['PATH_INFO'] == '/bytesio':
                return environ['wsgi.file_wrapper'](io.BytesIO(DATA))
            f = CountingFile(io.FileIO(self.temp.path, 'rb'))
            f.seek(int(environ['QUERY_STRING'] or 0))
            self.files.append(f)
            return environ['wsgi.file_wrapper'](f)

        base = base_environ(1, 1, ErrorStream(sys.stderr))
        self.server = InlineServer(child, app, base, lambda line: None)
        self.thread = threading.Thread(target=self.server.serve)
        self.thread.start()
        self.ch = wc.Worker.on(master)  # the master's end of the socketpair

    def tearDown(self):
        self.master_sock.sendall(wc.frame(0, wc.SHUTDOWN))
        self.thread.join(5)
        self.assertFalse(self.thread.is_alive())
        self.master_sock.close()
        self.child.close()
        self.temp.remove()

    def head_and_file(self, rid, query=''):
        return head_and_file(self, self.ch, rid, '/file', query)

    def test_file_opened_closes_then_ends(self):
        fd, offset, length = self.head_and_file(1, '1000')
        self.assertEqual((offset, length), (1000, SIZE - 1000))
        # The worker waits, holding the file open, so the master can open /proc/<pid>/fd/<fd>.
        with open('/proc/self/fd/%d' % fd, 'rb') as mine:
            mine.seek(offset)
            self.assertEqual(mine.read(), DATA[1000:])
        self.assertEqual(CountingFile.closes, 0)
        self.ch.send(wc.frame(1, FILE_OPENED))
        self.assertEqual([t for t, _ in until(self.ch, 1, (wc.END,))], [wc.END])
        self.assertEqual(CountingFile.closes, 1)

    def test_file_failed_streams_body_frames(self):
        self.head_and_file(2, '5')
        self.ch.send(wc.frame(2, FILE_FAILED))
        frames = until(self.ch, 2, (wc.END, wc.ERROR))
        self.assertEqual(frames[-1][0], wc.END)
        self.assertEqual(b''.join(p for t, p in frames if t == wc.BODY), DATA[5:])
        self.assertEqual(CountingFile.closes, 1)

    def test_abort_while_waiting_closes_and_ends(self):
        self.head_and_file(3)
        self.ch.send(wc.frame(3, wc.ABORT))
        self.assertEqual([t for t, _ in until(self.ch, 3, (wc.END,))], [wc.END])
        self.assertEqual(CountingFile.closes, 1)
        self.ch.send(wc.frame(3, FILE_OPENED))  # a late answer for a finished request is ignored
        self.head_and_file(4)
        self.ch.send(wc.frame(4, FILE_OPENED))
        self.assertEqual([t for t, _ in until(self.ch, 4, (wc.END,))], [wc.END])
        self.assertEqual(CountingFile.closes, 2)

    def test_bytesio_streams_without_asking(self):
        self.ch.send(wc.request_frame(5, '/bytesio'))
        frames = until(self.ch, 5, (wc.END, wc.ERROR))
        self.assertNotIn(FILE, [t for t, _ in frames])
        self.assertEqual(b''.join(p for t, p in frames if t == wc.BODY), DATA)


@unittest.skipUnless(FILE_FRAMES, 'FILE frames need Linux')
class ThreadedFileExchangeTest(unittest.TestCase):
    """The same answers to a real worker process with 2 threads (test/fixtures/worker-apps/file_app.py)."""

    def setUp(self):
        self.temp = Temp(DATA)
        self.w = wc.Worker(module='file_app', threads=2)
        self.w.ready()

    def tearDown(self):
        self.w.close()
        self.temp.remove()

    def test_every_answer(self):
        w, path = self.w, 'path=' + self.temp.path
        fd, offset, length = head_and_file(self, w, 1, '/file', path + '&seek=1000')
        self.assertEqual((offset, length), (1000, SIZE - 1000))
        with open('/proc/%d/fd/%d' % (w.proc.pid, fd), 'rb') as theirs:
            theirs.seek(offset)
            self.assertEqual(theirs.read(), DATA[1000:])
        w.send(wc.frame(1, FILE_OPENED))
        self.assertEqual([t for t, _ in until(w, 1, (wc.END,))], [wc.END])

        head_and_file(self, w, 2, '/file', path + '&seek=5')
        w.send(wc.frame(2, FILE_FAILED))
        frames = until(w, 2, (wc.END, wc.ERROR))
        self.assertEqual(frames[-1][0], wc.END)
        self.assertEqual(b''.join(p for t, p in frames if t == wc.BODY), DATA[5:])

        head_and_file(self, w, 3, '/file', path)
        w.send(wc.frame(3, wc.ABORT))
        self.assertEqual([t for t, _ in until(w, 3, (wc.END,))], [wc.END])

        w.send(wc.request_frame(4, '/closes'))
        self.assertEqual(w.response(4)['body'], b'3 0')


if __name__ == '__main__':
    unittest.main()
