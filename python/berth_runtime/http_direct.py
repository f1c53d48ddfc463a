"""The direct HTTP path: workers accept on the master's HTTP listeners and serve whole requests.

Theory of operation
-------------------
With http-direct the master binds each HTTP listener without listening and passes it to the
workers (like uwsgi-direct's sockets).  One serving thread at a time runs the worker's loop
over a selector holding the listeners, a wake-up pipe and the idle keep-alive connections
(the others are parked: http_idle_keeper.py).  A connection is served this way:
  1. peek (MSG_PEEK) at what the client has sent; nothing consumed yet;
  2. a complete, plain request — an origin-form head the rulebook parser accepts
     (http_request.py), no body or a Content-Length body wholly in the peek, no chunked body,
     Expect, Upgrade nor static path — is received (exactly its bytes) and served through the
     WSGI core (a proxy's Forwarded/X-Forwarded-* fields read as the master does: forwarded.py);
     its record goes to the master in a DIRECT frame;
  3. after a response the connection may carry the next request: it waits in the selector up
     to its listener's timeout and is then closed here, as the master would close it (not
     handed over: http_kept.py), at most HTTP_IDLE_MAX per worker (past it the least recently
     used go to the master), and stays registered there while its requests are served (no
     epoll_ctl per request); a pipelined request already there makes it ready at once, so it
     is served on the loop's next turn; while the thread is in the app past idle_ms (100 ms),
     http_idle_keeper.py hands its idle ones to the master;
  4. everything else — a head not complete at once, a body not all there, anything the parser
     refuses, an idle connection past the bound, every connection held at a stop — is handed to
     the master as the connection itself (http_handoff.py), with the unserved bytes still in
     the kernel's buffer, and the master answers as if it had accepted it.
A worker over its share of kept connections leaves the listeners to its siblings: worker_shares.py.
So no thread ever waits on a client, and the master's code alone writes 400s, 413s, 100
Continue and serves slow clients and static files."""

import errno
import os
import selectors
import socket
import threading
import time
import traceback

from .direct_io import DirectInput, RawConn
from .direct_report import DirectReport
from .forwarded import PeerTrust, parse_allow
from .http_direct_request import HttpDirectRequest, build_environ, path_and_script, record_block
from .script_name import mount_prefixes
from .http_early_verdict import static_claim
from .http_head import HttpDate
from .http_idle_keeper import IdleKeeper, LoopState
from .http_kept import KeptConnections, forget
from .http_request import HeadError, parse_request_head
from .static_relay import for_static_stage, static_prefixes_of
from .threads import HelperThread, run_signal_handlers
from .worker_shares import ListenerTurns
from .wsgi_core import serve_request
from .wsgi_input import EMPTY_INPUT

# What one peek takes: a request wholly in it may be served here.
PEEK_BYTES = 65536
# The first peek: most requests fit, and a smaller buffer is cheaper to allocate per request.
FIRST_PEEK = 8192
POLL_S = 0.25
_PEEK = socket.MSG_PEEK | socket.MSG_DONTWAIT
# Where run() receives (consumes) a request the peek already copied: its bytes are never read
# back, so every thread shares it and no buffer is made per request.
_DISCARD = bytearray(PEEK_BYTES)


class HttpDirect(object):
    """Serves the direct HTTP connections of one worker; `handoff`: an http_handoff.HandOff."""

    memory_guard = None  # reload-on-rss: main.py sets it
    on_accept_stopped = None  # main.py: tells the master once no accept can follow a stop

    def __init__(self, listeners, app, base, log, hcfg, threads, gate, channel_send, handoff):
        self.listeners = listeners
        self.app = app
        self.base = dict((k, v) for k, v in base.items() if k != 'SCRIPT_NAME')
        self.log = log
        self.threads = threads
        self.gate = gate
        self.handoff = handoff
        self.max_head = hcfg['buffer_size']
        self.limit_post = hcfg['limit_post']
        self.mounts = mount_prefixes(hcfg['mounts'])
        self.static_prefixes = static_prefixes_of(hcfg.get('static_prefixes', ()))
        allow = hcfg.get('forwarded_allow', ())
        self.peer_trust = PeerTrust(parse_allow(allow)) if allow else None
        self.date = HttpDate()
        self.reports = DirectReport(hcfg, threads, channel_send)
        self.stopping = False
        self.listeners_closed = False
        self.wake_r, self.wake_w = os.pipe()
        self.keeper = IdleKeeper(hcfg['idle_ms'] / 1000.0, handoff)
        self.kept = KeptConnections(hcfg, handoff)  # idle connections' deadlines and bound
        self.state = None  # the LoopState all serving threads share (http_idle_keeper.py)
        self.turns = ListenerTurns(hcfg['share'], listeners) if 'share' in hcfg else None  # >1 worker

    def serve(self):
        """Runs the serving loops; returns once stopped, every connection served or handed over."""
        sel = selectors.DefaultSelector()
        for sock, index in self.listeners:
            sel.register(sock, selectors.EVENT_READ, (sock, index))
        sel.register(self.wake_r, selectors.EVENT_READ, None)
        self.state = LoopState(sel, {}, self.threads)
        self.keeper.add(self.state)
        HelperThread(self.reports.report_loop, 'berth-http-report').start()
        HelperThread(self.keeper.run, 'berth-http-keeper').start()
        self.loops = [HelperThread(lambda: self.loop(False), 'berth-http-%d' % i) for i in range(1, self.threads)]
        for t in self.loops:
            t.start()
        self.loop()
        for t in self.loops:
            t.join()
        self.reports.report()

    def request_stop(self):
        """SIGTERM / SHUTDOWN: stop accepting; requests under way finish, held connections go
        to the master."""
        self.stopping = True
        try:
            os.write(self.wake_w, b'x')
        except OSError:
            pass
        state = self.state
        if state is not None:
            state.wake_all()
            # Free: no thread is between its look at `stopping` and an accept, so close now, not
            # after the requests under way.  Held (maybe by this thread): the loop closes them.
            if state.lock.acquire(False):
                try:
                    self.close_listeners()
                finally:
                    state.lock.release()

    def close_listeners(self):
        """At a stop, the loop's lock held (every accept is made under it, after a look at
        `stopping`): none can follow, and the master learns it (master/generation-switch.ts waits)."""
        if self.listeners_closed:
            return
        self.listeners_closed = True
        sel = self.state.sel
        for sock, _ in self.listeners:
            try:
                sel.unregister(sock)
            except (KeyError, ValueError, RuntimeError):
                pass  # never registered, or the selector is closed
            sock.close()
        if self.on_accept_stopped is not None:
            self.on_accept_stopped()

    def timeout_answers(self):
        self.reports.timeout_answers()

    def is_running(self, req):
        return True

    def loop(self, first=True):
        """One serving thread: serves the shared loop, or parks while another thread does."""
        state = self.state
        sel, idle = state.sel, state.idle
        # idle: fd -> Idle in last-use order (http_kept.py); one being served is out of it.
        state.lock.acquire()  # held except while the app runs and while parked
        stopping, ident = self.is_stopping, threading.get_ident()
        state.looping += 1
        if hasattr(threading, 'get_native_id'):
            state.tids[ident] = threading.get_native_id()
        try:
            if not first:
                state.park(stopping)
            while not self.stopping:
                if state.yielding and state.should_park(ident):
                    state.park(stopping)
                    continue
                timeout = POLL_S
                if idle:
                    timeout = max(0.0, min(POLL_S, self.kept.next_deadline(idle) - time.monotonic()))
                if self.turns is not None:  # publishes what it holds; off the listeners for a while?
                    timeout = self.turns.before_select(sel, len(idle) + state.in_app, timeout)
                events = state.wait_ready(timeout)
                if not events:
                    run_signal_handlers()
                for key, _ in events:
                    data = key.data
                    if data is None or self.stopping:
                        continue
                    if type(data) is tuple:
                        if self.turns is None or not self.turns.defer(sel):
                            self.accept(data[0], data[1], sel, idle)
                        continue
                    if idle.get(data.fd) is not data:
                        # handed over by the keeper while an earlier event ran the app, or in
                        # the app on another thread: out of the selector until it is back
                        if data.registered and data.sock.fileno() >= 0:
                            data.registered = False
                            sel.unregister(data.fd)
                        continue
                    del idle[data.fd]
                    self.connection(data.sock, data.index, data.served, data.ends, sel, idle, data)
                if idle:
                    self.kept.expire(sel, idle, self.serve_kept)
        finally:
            if self.stopping:
                self.close_listeners()
            state.alive -= 1
            if state.alive == 0:
                for i in idle.values():
                    forget(sel, {}, i)
                    self.handoff.hand(i.sock, i.index, 'stop', i.served, i.ends)
                idle.clear()
                sel.close()
            state.lock.release()

    def is_stopping(self):
        return self.stopping

    def serve_kept(self, sock, index, served, ends):
        """A kept connection whose request arrived as its idle deadline passed."""
        state = self.state
        self.connection(sock, index, served, ends, state.sel, state.idle)

    def accept(self, listener, index, sel, idle):
        try:
            sock, peer = listener.accept()
        except (BlockingIOError, InterruptedError):
            return  # another thread or worker took it
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                self.log('accepting on an HTTP listener failed: %s; retrying in %g s' % (e, POLL_S))
                time.sleep(POLL_S)
            return
        try:
            ends = (sock.getsockname(), peer)
        except OSError:
            return sock.close()
        self.connection(sock, index, 0, ends, sel, idle)

    def connection(self, sock, index, served, ends, sel, idle, item=None):
        try:
            self.serve_connection(sock, index, served, ends, sel, idle, item)
        except Exception:
            self.log('direct HTTP connection failed: %s' % traceback.format_exc())
            forget(sel, idle, item)
            try:
                sock.close()
            except OSError:
                pass

    def serve_connection(self, sock, index, served, ends, sel, idle, item):
        """Serves the request that is whole on `sock`, then keeps it idle, hands it over, or
        closes it.  `item`: its Idle when the selector found it ready (still registered, out of
        `idle` while it is served).
        No peek after a response: the next request is seldom there yet, and the selector
        reports one that is."""
        if self.stopping:
            forget(sel, idle, item)
            return self.handoff.hand(sock, index, 'stop', served, ends)
        try:
            data = sock.recv(FIRST_PEEK, _PEEK)
            if len(data) == FIRST_PEEK:  # more may be there: a big head or body
                data = sock.recv(PEEK_BYTES, _PEEK)
        except (BlockingIOError, InterruptedError):
            return self.kept.keep(sock, index, served, ends, sel, idle, item)
        except OSError:
            forget(sel, idle, item)
            return sock.close()
        if not data:
            forget(sel, idle, item)
            return sock.close()  # closed between requests
        verdict = self.judge(data)
        if type(verdict) is str:
            forget(sel, idle, item)
            return self.handoff.hand(sock, index, verdict, served, ends)
        if not self.run(sock, data, verdict, ends):
            forget(sel, idle, item)
            return sock.close()
        self.kept.keep(sock, index, served + 1, ends, sel, idle, item)

    def judge(self, data):
        """(head, whole length, path_info, script_name) to serve, or the reason to hand over."""
        prefixes = self.static_prefixes
        claim = None if prefixes is None else static_claim(data, self.max_head, prefixes)
        if claim:
            return 'static'  # before the full parse, which would lead to the same verdict
        head = parse_request_head(data, self.max_head, self.limit_post)
        if head is None:
            return 'partial' if len(data) < PEEK_BYTES else 'oversized'
        if isinstance(head, HeadError):
            return 'refused'
        if head.content_length < 0 or head.chunked:
            return 'chunked'
        if head.expect_continue:
            return 'expect'
        if head.target[:1] != '/':
            return 'target-form'
        whole = head.head_length + head.content_length
        if whole > len(data):
            return 'body' if whole <= PEEK_BYTES else 'oversized'
        for name, _ in head.headers:
            if name == b'upgrade':
                return 'header'
        if claim is None and prefixes is not None and for_static_stage(
                prefixes, {'REQUEST_METHOD': head.method, 'REQUEST_URI': head.target}):
            return 'static'
        split = path_and_script(head.path, self.mounts)
        if split is None:
            return 'refused'
        return head, whole, split[0], split[1]

    def run(self, sock, data, verdict, ends):
        """Receives the request's bytes, calls the app; whether the connection may go on."""
        started = time.monotonic()
        head, whole, path_info, script_name = verdict
        got = 0
        while got < whole:  # they are in the buffer (the peek saw them): no wait
            n = sock.recv_into(_DISCARD, whole - got)
            if n == 0:
                return False
            got += n
        length = head.content_length
        env = build_environ(self.base, head, path_info, script_name, ends[0], ends[1], length)
        if self.peer_trust is not None:
            self.peer_trust.apply(env)
        env['wsgi.input'] = DirectInput(data[head.head_length:whole]) if length > 0 else EMPTY_INPUT
        keep = head.keep_alive and not self.stopping
        conn = RawConn(sock.fileno(), False, nonblocking=False)
        req = HttpDirectRequest(env, self, conn, self.date, head.method == 'HEAD', keep, head.version == 'HTTP/1.1')
        ident = threading.get_ident()
        running = self.reports.running
        running[ident] = (started, req)
        state = self.state
        state.enter_app(started, ident)
        state.lock.release()
        gate = self.gate
        gate.acquire()
        try:
            serve_request(self.app, req)
        finally:
            gate.release()
            state.leave_app(ident)
            running.pop(ident, None)
        kept = req.kept()
        # The vars block is built only for a record the access log keeps (done() calls it).
        self.reports.done(req, started, lambda: record_block(env), 0, 0, 0)
        if not kept:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        return kept

