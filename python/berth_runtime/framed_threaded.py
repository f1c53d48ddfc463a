"""The framed server for threads > 1 (reader thread, T app threads, combined sends).

The first sender flushes what the others queued meanwhile (one sendall for many
responses)."""

import os
import queue
import threading
import time

from .exits import EXIT_USAGE
from .framed_server import Server
from .threads import SIGNAL_CHECK_S, HelperThread, run_signal_handlers
from .wire import ProtocolError
from .wsgi_core import serve_request


class ThreadedServer(Server):
    """threads > 1: a reader thread routes frames, T threads run requests, sends are combined."""

    def __init__(self, sock, app, base, log, threads, lifeline=None):
        Server.__init__(self, sock, app, base, log, lifeline)
        self.threads = threads
        self.queue = queue.SimpleQueue()
        self.done = threading.Event()
        # One Condition for every wait (body bytes, window): waits are rare, so a shared
        # one beats allocating a Condition per request.
        self.cond = threading.Condition(threading.Lock())
        self.out = []
        self.out_lock = threading.Lock()
        self.flushing = False
        # With direct serving: the app calls of both servers share `threads` permits, and a
        # SHUTDOWN from the master must also stop the accept loop in the main thread.
        self.gate = None
        self.on_stop = None

    def new_cond(self):
        return self.cond

    def queue_request(self, req):
        self.queue.put(req)

    def send_parts(self, parts):
        """Combining writer: the first thread to find no flush running sends everything
        queued (its own frames and those other threads add meanwhile) until the list is
        empty; the others only append. Under load N responses leave in one sendall."""
        lock = self.out_lock
        with lock:
            self.out.extend(parts)
            if self.flushing:
                return
            self.flushing = True
        try:
            while True:
                with lock:
                    out = self.out
                    if not out:
                        self.flushing = False
                        return
                    self.out = []
                self.sock.sendall(b''.join(out) if len(out) > 1 else out[0])
        except OSError:
            self.lifeline.gone()

    def send_stream(self, header, data):
        self.send_parts((header, data))

    def control_sender(self):
        """The combining writer is safe from any thread already."""
        return lambda data: self.send_parts((data,))

    def wait(self, req, ready):
        with req.cond:
            while not ready():
                req.cond.wait()

    def request_stop(self):
        self.stopping = True
        if not self.requests:
            self.done.set()
        if self.on_stop is not None:
            self.on_stop()

    def finish(self, req):
        Server.finish(self, req)
        if self.stopping and not self.requests:
            self.done.set()

    def read_loop(self):
        recv = self.receive
        try:
            while True:
                data = recv()
                if not data:
                    break
                self.route(self.reader.feed(data))
        except ProtocolError as e:
            self.log('protocol error from the master: %s' % e)
            os._exit(EXIT_USAGE)
        except OSError:
            pass
        self.lifeline.gone()

    def work_loop(self):
        get = self.queue.get
        app = self.app
        finish = self.finish
        gate = self.gate
        while True:
            req = get()
            if gate is None:
                serve_request(app, req)
            else:
                with gate:
                    serve_request(app, req)
            finish(req)

    def serve(self):
        for i in range(self.threads):
            HelperThread(self.work_loop, 'berth-thread-%d' % i).start()
        HelperThread(self.read_loop, 'berth-reader').start()
        self.wait_done()

    def wait_done(self):
        """In the main thread: until stopped with nothing running, then every frame sent."""
        while not self.done.wait(SIGNAL_CHECK_S):
            run_signal_handlers()
        self.drain()

    def drain(self):
        """Wait until another thread's flush has sent every queued frame."""
        while True:
            with self.out_lock:
                if not self.flushing and not self.out:
                    return
            time.sleep(0.001)

