"""The framed server's shared part: frame routing and the framed request (core sink).

Frames from the master are routed to requests; the framed request is the WSGI core's sink,
whose response leaves as frames (FULL, or HEAD/BODY.../END, or HEAD+FILE).

InlineServer (framed_inline.py) and ThreadedServer (framed_threaded.py) differ only in how
they read, wait and send: send_parts(parts), send_stream(header, data), control_sender(),
wait(req, ready), queue_request(req) and serve()."""

import os
import traceback

from .environ import build_environ
from .lifeline import Lifeline
from .responses import ResponseInvalid, encode_head
from .wire import ACK, ABORT, BODY, BODY_END, BODY_FRAME_MAX_BYTES, BODY_IN, END, ERROR, FILE, FILE_FAILED, \
    FILE_FRAME, FILE_OPENED, FLAG_HAS_BODY, FULL, FULL_MAX_BODY_BYTES, HEAD, HEADER, HEADER_U32, RECV_BYTES, \
    REPORT, REQUEST, RESPONSE_WINDOW_BYTES, SHUTDOWN, U32, FrameReader, ProtocolError, frame
from .wsgi_core import CoreRequest, serve_request
from .wsgi_input import EMPTY_INPUT, InputStream


class Request(CoreRequest):
    """One framed request: the core's state plus the streamed-response window."""

    __slots__ = ('cond', 'unacked', 'file_reply')

    def __init__(self, rid, env, server, cond):
        self.id = rid
        self.env = env
        self.server = server
        self.cond = cond
        self.input = EMPTY_INPUT
        self.status = None
        self.headers = None
        self.head_sent = False
        self.aborted = False
        self.unacked = 0
        self.file_reply = None

    # -- the WSGI core's sink

    def send_whole(self, body):
        """One FULL frame (HEAD+BODY+END); False for a body too big for one frame."""
        if len(body) > FULL_MAX_BODY_BYTES:
            return False
        head = encode_head(self.status, self.headers)
        self.server.send_parts((HEADER_U32.pack(4 + len(head) + len(body), self.id, FULL, len(head)), head, body))
        return True

    def send_file(self, wrapper, plan):
        """HEAD + FILE, then wait for the master.  True when the master has the body
        (FILE_OPENED) or the client left (ABORT); False to stream the file instead
        (FILE_FAILED, or a head stream() will report)."""
        try:
            head = encode_head(self.status, self.headers)
        except ResponseInvalid:
            return False  # stream() reports it, and calls close()
        fd, offset, length = plan
        self.server.send_parts((frame(self.id, HEAD, head), FILE_FRAME.pack(20, self.id, FILE, fd, offset, length)))
        self.head_sent = True
        self.server.wait(self, self._file_answered)
        return self.file_reply is not False or self.aborted

    def end(self):
        if not self.head_sent and not self.aborted:
            self.server.send_parts((frame(self.id, HEAD, encode_head(self.status, self.headers)),))
            self.head_sent = True
        self.server.send_parts((frame(self.id, END),))

    def response_invalid(self, reason):
        self.fail(reason, True)

    def app_raised(self, error):
        self.fail(traceback.format_exc(), False)

    def fail(self, reason, log):
        if self.aborted:
            self.server.send_parts((frame(self.id, END),))
            return
        if log:
            env = self.env
            self.server.log('request %d %s %s: %s' % (self.id, env.get('REQUEST_METHOD', '?'),
                                                      env.get('PATH_INFO', '?'), reason))
        self.server.send_parts((frame(self.id, ERROR, reason.encode('utf-8', 'replace')),))

    def send_body(self, data):
        server = self.server
        if not self.head_sent:  # start_response came first: write() and stream() check it
            server.send_parts((frame(self.id, HEAD, encode_head(self.status, self.headers)),))
            self.head_sent = True
        if len(data) <= BODY_FRAME_MAX_BYTES:
            self._send_piece(server, data)
            return
        view = memoryview(data)
        for start in range(0, len(data), BODY_FRAME_MAX_BYTES):
            self._send_piece(server, view[start:start + BODY_FRAME_MAX_BYTES])
            if self.aborted:
                return

    def _send_piece(self, server, piece):
        """One BODY frame; blocks while more than the window is unacknowledged."""
        n = len(piece)
        cond = self.cond
        if cond is None:
            self.unacked += n
        else:
            with cond:  # the reader thread subtracts ACKs concurrently
                self.unacked += n
        server.send_stream(HEADER.pack(n, self.id, BODY), piece)
        if self.unacked > RESPONSE_WINDOW_BYTES and not self.aborted:
            server.wait(self, self._window_open)

    def _window_open(self):
        return self.unacked <= RESPONSE_WINDOW_BYTES or self.aborted

    # -- fed by the frame router
    def ack(self, n):
        cond = self.cond
        if cond is None:
            self.unacked -= n
        else:
            with cond:
                self.unacked -= n
                cond.notify_all()

    def file_answer(self, opened):
        """FILE_OPENED (True) or FILE_FAILED (False) arrived."""
        cond = self.cond
        if cond is None:
            self.file_reply = opened
        else:
            with cond:
                self.file_reply = opened
                cond.notify_all()

    def _file_answered(self):
        return self.file_reply is not None or self.aborted

    def abort(self):
        cond = self.cond
        if cond is None:
            self.aborted = True
        else:
            with cond:
                self.aborted = True
                cond.notify_all()
        if self.input is not EMPTY_INPUT:
            self.input.finish()


class Receiver(object):
    """sock.recv() without a fresh 256 KiB buffer per call.

    recv(256 KiB) makes glibc map a new buffer, shrink it (mremap) and unmap it: three
    system calls around every read, measured with strace -c on a busy worker.  Reading into
    one reused buffer and copying out the bytes that came costs a small allocation instead.
    """

    __slots__ = ('_buf', '_view', '_recv_into')

    def __init__(self, sock, size=RECV_BYTES):
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        self._recv_into = sock.recv_into

    def __call__(self, flags=0):
        n = self._recv_into(self._buf, 0, flags)
        return self._view[:n].tobytes()


class Server(object):
    """Frame routing and request running shared by the inline and threaded strategies."""

    memory_guard = None  # reload-on-rss: main.py sets a MemoryGuard when it is on
    on_report = None  # a direct worker: main.py sets what sends its DIRECT frames now (REPORT)

    def __init__(self, sock, app, base, log, lifeline=None):
        self.sock = sock
        self.app = app
        self.base = base
        self.log = log
        self.lifeline = lifeline if lifeline is not None else Lifeline(os.getppid(), False)
        self.reader = FrameReader()
        self.receive = Receiver(sock)
        self.requests = {}
        self.stopping = False

    def is_running(self, req):
        """For the harakiri dump: `req` is on a stack and not finished yet."""
        return self.requests.get(req.id) is req

    def new_cond(self):
        return None

    def route(self, frames):
        requests = self.requests
        for rid, typ, payload in frames:
            if typ == REQUEST:
                self.accept(rid, payload)
                continue
            req = requests.get(rid)
            if typ == BODY_IN:
                if req is not None:
                    req.input.feed(payload)
            elif typ == BODY_END:
                if req is not None:
                    req.input.finish()
            elif typ == ACK:
                if req is not None:
                    req.ack(U32.unpack_from(payload)[0])
            elif typ == ABORT:
                if req is not None:
                    req.abort()
            elif typ == FILE_OPENED or typ == FILE_FAILED:
                if req is not None:
                    req.file_answer(typ == FILE_OPENED)
            elif typ == SHUTDOWN:
                self.request_stop()
            elif typ == REPORT:
                if self.on_report is not None:
                    self.on_report()
            else:
                raise ProtocolError('unknown frame type 0x%02x (request %d)' % (typ, rid))

    def accept(self, rid, payload):
        if not payload:
            raise ProtocolError('REQUEST frame %d has no flags byte' % rid)
        if self.stopping:
            self.send_parts((frame(rid, ERROR, b'worker is shutting down'),))
            return
        req = Request(rid, build_environ(self.base, payload[1:]), self, self.new_cond())
        if payload[0] & FLAG_HAS_BODY:
            req.input = req.env['wsgi.input'] = InputStream(req)
        else:
            req.env['wsgi.input'] = EMPTY_INPUT
        self.requests[rid] = req
        self.queue_request(req)

    def run(self, req):
        """Call the app and send its response (the WSGI core); never raises."""
        serve_request(self.app, req)
        self.finish(req)

    def finish(self, req):
        self.requests.pop(req.id, None)
        if req.input is not EMPTY_INPUT:
            req.input.credit()

    def request_stop(self):
        self.stopping = True
