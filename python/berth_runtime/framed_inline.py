"""The framed server for threads == 1 (one thread reads, runs and writes).

Outgoing frames leave in batches."""

import collections
import os
import socket
import threading

from .exits import EXIT_USAGE
from .framed_server import Server
from .wire import FLUSH_BYTES, ProtocolError
from .wsgi_core import serve_request


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave an idle recv() in the inline loop."""


class InlineServer(Server):
    """threads == 1: one thread reads, runs and writes; outgoing frames leave in batches."""

    def __init__(self, sock, app, base, log, lifeline=None):
        Server.__init__(self, sock, app, base, log, lifeline)
        self.out = []
        self.ready = collections.deque()
        self.idle = False

    def queue_request(self, req):
        self.ready.append(req)

    def send_parts(self, parts):
        self.out.extend(parts)
        if len(parts[-1]) > FLUSH_BYTES:
            self.flush()  # a big body leaves now instead of piling up behind a batch

    def send_stream(self, header, data):
        self.out.append(header)
        self.out.append(data)
        self.flush()
        self.pump(block=False)

    def flush(self):
        out = self.out
        if out:
            data = b''.join(out) if len(out) > 1 else out[0]
            del out[:]
            try:
                self.sock.sendall(data)
            except OSError:
                self.lifeline.gone()

    def control_sender(self):
        """send(data) for another thread (the MODULES reporter).  From now on flush() and
        send() share a lock, so their sendall()s never interleave; a worker that never
        calls this takes no lock on the request path."""
        lock = threading.Lock()
        flush = self.flush
        sock = self.sock
        lifeline = self.lifeline

        def locked_flush():
            with lock:
                flush()

        def send(data):
            try:
                with lock:
                    sock.sendall(data)
            except OSError:
                lifeline.gone()

        self.flush = locked_flush  # every caller looks it up on self
        return send

    def pump(self, block=True):
        """Flush, then read and route whatever frames the master has sent."""
        self.flush()
        try:
            if block:
                data = self.receive()
            else:
                data = self.receive(socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.lifeline.gone()
        if not data:
            self.lifeline.gone()
        try:
            self.route(self.reader.feed(data))
        except ProtocolError as e:
            self.log('protocol error from the master: %s' % e)
            os._exit(EXIT_USAGE)

    def wait(self, req, ready):
        while not ready():
            self.pump()

    def request_stop(self):
        self.stopping = True
        if self.idle:
            raise _Stop()

    def serve(self):
        ready = self.ready
        app = self.app
        finish = self.finish
        recv = self.receive
        feed = self.reader.feed
        route = self.route
        try:
            while True:
                while ready:
                    req = ready.popleft()
                    serve_request(app, req)
                    finish(req)
                self.flush()
                if self.stopping:
                    return
                self.idle = True
                try:
                    data = recv()
                finally:
                    self.idle = False
                if not data:
                    self.lifeline.gone()
                route(feed(data))
        except _Stop:
            self.flush()
        except OSError:
            self.lifeline.gone()
