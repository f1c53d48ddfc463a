"""Direct-path I/O: raw connections, socket timeouts, the gate, wsgi.input, listeners.

Accepted connections as bare descriptors (RawConn) with the socket-timeout
(SocketTimeouts, the direct path's settings object), the gate on app calls, wsgi.input over
the body in hand, SCHED_BATCH for accept threads, and the inherited uwsgi sockets put to
listen."""

import fcntl
import functools
import math
import os
import queue
import socket
import struct
import threading

from .config import BootFailure
from .wsgi_input import LineReader

# How often an idle accept() returns to look for a stop (SO_RCVTIMEO of the listening socket).
ACCEPT_POLL_S = 0.25
# TCP_DEFER_ACCEPT on TCP uwsgi listeners (Linux; elsewhere the waiter alone holds silent peers).
DEFER_ACCEPT = hasattr(socket, 'TCP_DEFER_ACCEPT')
SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO = socket.SOL_SOCKET, socket.SO_RCVTIMEO, socket.SO_SNDTIMEO


def timeval(seconds):
    return struct.pack('ll', int(seconds), int((seconds - int(seconds)) * 1e6))


def libc_setsockopt():
    """setsockopt() on a bare descriptor through libc (a socket object costs a getsockname()).
    No argtypes and no errno capture: ctypes passes ints and a bytes buffer as they are, at
    about half the cost per call (the result is not looked at: see timed())."""
    try:
        import ctypes
        import ctypes.util
        return ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6').setsockopt
    except Exception:
        return None


def unblocked(fd):
    """An accepted connection, non-blocking: the first read takes what is there and never
    waits on the peer (the waiter does that, direct_waiter.py).  One system call; O_NONBLOCK
    is the only flag of a fresh socket F_SETFL changes."""
    fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)


class SocketTimeouts(object):
    """socket-timeout as the direct path applies it, set once from the config and read-only
    after: how long the waiter waits for a request (read_s), and the send timeout timed()
    gives an accepted unix-socket connection (a TCP one inherits it from the listening socket)."""

    __slots__ = ('read_s', 'setsockopt', 'send_timeval')

    def __init__(self, read_s=4.0, unix=False):
        self.read_s = read_s
        self.setsockopt = libc_setsockopt() if unix else None
        self.send_timeval = timeval(read_s)

    def timed(self, fd, option=SO_SNDTIMEO):
        """Gives an accepted unix-socket connection the send timeout a TCP one inherits from
        the listening socket (Linux copies it for TCP only), so a local peer that stops reading
        cannot hold a thread past the socket timeout; set only before a response too big for
        the socket buffer to take whole (RawConn.sendall), saving a system call on every
        ordinary request.  (It cannot fail on a descriptor accept() just returned.)"""
        value = self.send_timeval
        if self.setsockopt is not None:
            self.setsockopt(fd, SOL_SOCKET, option, value, len(value))
            return
        s = socket.socket(fileno=fd)
        s.setsockopt(SOL_SOCKET, option, value)
        s.detach()


DEFAULT_TIMEOUTS = SocketTimeouts()


class RawConn(object):
    """An accepted connection as a bare descriptor.  Wrapping it in a socket object costs a
    getsockname() per request (CPython checks that the descriptor is a socket); a relayed
    connection, the rare case, gets its socket object then."""

    __slots__ = ('fd', 'send_untimed', 'timeouts', 'nonblocking')
    # Below this a send completes at once into the socket buffer, whatever the peer does.
    SMALL_SEND = 65536

    def __init__(self, fd, unix=False, timeouts=DEFAULT_TIMEOUTS, nonblocking=True):
        self.fd = fd
        self.send_untimed = unix
        self.timeouts = timeouts
        self.nonblocking = nonblocking  # as unblocked() left it: blocking again for big sends

    def before_big_send(self):
        """A send that may wait for the peer: blocking, bounded by the socket timeout."""
        if self.nonblocking:
            self.nonblocking = False
            os.set_blocking(self.fd, True)
        if self.send_untimed:
            self.send_untimed = False
            self.timeouts.timed(self.fd, SO_SNDTIMEO)

    def fileno(self):
        return self.fd

    def read_first(self):
        """What the peer has sent, without waiting: bytes, b'' when it closed, None when
        nothing is there yet (the waiter takes the connection then)."""
        try:
            return os.read(self.fd, 65536)  # below glibc's mmap threshold; the waiter reads on
        except BlockingIOError:
            return None

    def sendall(self, data):
        fd = self.fd
        if len(data) > RawConn.SMALL_SEND:
            self.before_big_send()
        try:
            n = os.write(fd, data)
        except BlockingIOError:
            n = 0
        if n < len(data):
            self.before_big_send()  # small sends that filled the socket buffer: wait as big ones do
            view = memoryview(data)
            while n < len(view):
                n += os.write(fd, view[n:])

    def close(self):
        """Once: a descriptor number closed twice may already be another connection's."""
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


class Gate(object):
    """At most n holders.  threading.Semaphore is Python code (a Condition around a counter);
    a C lock (n == 1) or a C queue of n tokens costs a fraction of it on every request."""

    __slots__ = ('acquire', 'release')

    def __init__(self, n):
        if n == 1:
            lock = threading.Lock()
            self.acquire, self.release = lock.acquire, lock.release
        else:
            tokens = queue.SimpleQueue()
            for _ in range(n):
                tokens.put(None)
            self.acquire, self.release = tokens.get, functools.partial(tokens.put, None)

    def __enter__(self):
        self.acquire()

    def __exit__(self, *exc):
        self.release()


class DirectInput(LineReader):
    """wsgi.input of a direct request: the whole body, in hand before the app was called (the
    waiter collects it), so a read never waits on the peer and never returns short."""

    __slots__ = ('_buf', '_pos')

    def __init__(self, body):
        self._buf = body
        self._pos = 0

    def _take(self, n):
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def read(self, size=-1):
        if size is None or size < 0:
            size = len(self._buf) - self._pos
        return self._take(size)

    def readline(self, size=-1):
        nl = self._buf.find(b'\n', self._pos)
        end = nl + 1 - self._pos if nl != -1 else len(self._buf) - self._pos
        if size is not None and 0 <= size < end:
            end = size
        return self._take(end)

    def close(self):
        pass


def batch_scheduling():
    """Puts the calling thread under SCHED_BATCH (uwsgi-direct-batch), for the threads that
    accept on the uwsgi sockets.  nginx connects, then writes the request: the connect wakes
    the worker blocked in accept(), and a normal thread woken so preempts nginx on its CPU
    only to find no bytes yet and sleep again, twice per request.  A batch thread does not
    preempt at wake-up; it runs when a CPU is free or nginx yields, with the request there.
    Same priority (nice) as before, no privilege needed; threads it starts inherit it.
    Returns why it could not (not Linux, or refused, as a seccomp filter may), else None: the
    thread then keeps the normal policy and serves as before."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        return None
    except (AttributeError, OSError) as e:
        return str(e) or type(e).__name__


def open_direct_listeners(cfg):
    """The inherited uwsgi sockets of config "direct", listening, and the socket-timeout:
    ([(socket, unix, index)], SocketTimeouts), or None without "direct".  The master bound
    them without listening (Node would otherwise accept on them itself), so the first process
    to start puts them in the listen state; later calls only repeat it."""
    direct = cfg['direct']
    if direct is None:
        return None
    timeout = direct['timeout_ms'] / 1000.0
    timeouts = SocketTimeouts(timeout, any(spec['unix'] for spec in direct['listeners']))
    out = []
    try:
        for spec in direct['listeners']:
            sock = socket.socket(fileno=spec['fd'])
            sock.set_inheritable(False)  # the app's subprocesses must not hold it
            sock.listen(direct['backlog'])
            # Blocking accept (threads == 1) or select + non-blocking accept (threads > 1).
            sock.setblocking(cfg['threads'] == 1 and len(direct['listeners']) == 1)
            # accept() returns every ACCEPT_POLL_S to look for a stop; accepted TCP connections
            # inherit the send timeout (their reads never wait: see unblocked()).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval(ACCEPT_POLL_S))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval(timeout))
            if not spec['unix'] and DEFER_ACCEPT:
                # The kernel surfaces a TCP connection once its first bytes are in (or after
                # about `timeout`): a silent peer never even reaches accept().
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, max(1, int(math.ceil(timeout))))
            out.append((sock, spec['unix'], spec['index']))
    except OSError as e:
        raise BootFailure('config', 'cannot use the uwsgi socket the master passed (fd %s): %s' % (spec['fd'], e))
    return out, timeouts
