"""Lingering close: a direct connection whose peer sent more than its request ends with a FIN.

Theory of operation
-------------------
Linux answers close() on a TCP socket that still holds unread bytes with a reset, not a FIN
(RFC 2525 section 2.17), and a reset lets the peer's stack drop the response it has not read
yet.  A peer that sends bytes after its uwsgi packet (nginx never does; a fuzzer did, in a
later segment that arrived while the app ran) then lost its answer now and then.  So after
the response, one ioctl(FIONREAD) (well under a microsecond) asks whether anything is unread;
when something is, the connection goes to the waiter's event loop instead of close(): a
shutdown(SHUT_WR) ends the response with a FIN, and the loop reads and drops what the peer
still sends until it closes, LINGER_MAX_BYTES or the socket timeout (LINGER_MAX_S at most),
then closes.  No serving thread waits on the peer.
"""

import fcntl
import os
import socket
import struct
import termios
import time

from .event_loop import READ

NOTHING_UNREAD = struct.pack('i', 0)
LINGER_MAX_S = 2.0
LINGER_MAX_BYTES = 1 << 20
CHUNK = 65536


def has_unread(fd):
    """Whether the peer's bytes wait unread on `fd` (False when the ioctl fails)."""
    try:
        return fcntl.ioctl(fd, termios.FIONREAD, NOTHING_UNREAD) != NOTHING_UNREAD
    except OSError:
        return False


class Lingering(object):
    """Connections in a lingering close, held by `loop` (event_loop.py)."""

    def __init__(self, loop, timeout_s):
        self.loop = loop
        self.budget_s = min(timeout_s, LINGER_MAX_S) if timeout_s > 0 else LINGER_MAX_S
        self.held = {}  # fd -> [deadline, bytes dropped]
        loop.tickers.append(self.expire)

    def close(self, conn):
        """From a serving thread, after the response: close `conn` (a RawConn), lingering
        first when its peer sent bytes nobody read."""
        fd = conn.fd
        if fd < 0 or not has_unread(fd):
            conn.close()
            return
        conn.fd = -1  # ours from now on
        try:
            s = socket.socket(fileno=fd)
            s.shutdown(socket.SHUT_WR)
            s.detach()
        except OSError:
            os.close(fd)
            return
        self.loop.call(self.begin, fd)

    def begin(self, fd):
        self.held[fd] = [time.monotonic() + self.budget_s, 0]
        self.loop.watch(fd, READ, lambda mask: self.readable(fd))

    def readable(self, fd):
        entry = self.held.get(fd)
        if entry is None:
            return
        try:
            chunk = os.read(fd, CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b''
        entry[1] += len(chunk)
        if not chunk or entry[1] > LINGER_MAX_BYTES:
            self.end(fd)

    def end(self, fd):
        self.loop.forget(fd)
        del self.held[fd]
        os.close(fd)

    def expire(self, now):
        for fd in [fd for fd, (deadline, _) in self.held.items() if now >= deadline]:
            self.end(fd)
