"""Hands a direct HTTP connection itself (its descriptor) to the master over Node's IPC channel.

Theory of operation
-------------------
The master spawns the zygote with a Node IPC channel (NODE_CHANNEL_FD, a unix stream socket);
every forked worker inherits it.  Node reads that stream as JSON lines and takes a descriptor
sent with a line whose "cmd" is NODE_HANDLE as a stream handle ("type": "net.Native"), given to the zygote's
ChildProcess 'message' listener with the line's "msg".  So a hand-over is one sendmsg() of
one short line (well under the socket buffer: one skb, so lines of concurrent workers never
interleave) with the connection's descriptor in SCM_RIGHTS, after which this process closes
its copy.  The connection carries no bytes of ours: the direct path only ever consumed the
requests it served (http_direct.py peeks first), so the master reads the rest from the kernel.
Node answers every handle with a NODE_HANDLE_ACK line on the same stream; the zygote reads and
discards them (drain_acks), since a full buffer would make Node queue handles forever.
The zygote holds its end of the channel until the master has read every line its workers
sent (wait_taken): once no process holds that end, libuv takes the hang-up for the end of the
stream after the first of several queued lines (each read stops at a descriptor), and Node
drops the rest, so connections handed over by a retiring generation would be closed unanswered."""

import fcntl
import json
import os
import socket
import struct
import termios
import threading
import time

CHANNEL_ENV = 'NODE_CHANNEL_FD'
# The longest hand-over line sent.  Lines of concurrent workers stay whole only because each is
# one small sendmsg() (one skb); the longest real line is about 150 bytes, the socket buffer
# is hundreds of KiB.  A longer line is refused rather than risk an interleaved stream.
MAX_LINE = 256


def take_channel_fd(environ):
    """The IPC descriptor Node gave the zygote, or None; the variable is removed so the app's
    subprocesses (a Node tool started by the app, say) do not mistake it for theirs.  Not
    inherited by exec(); a blocking descriptor (sendmsg waits rather than fail when full)."""
    value = environ.pop(CHANNEL_ENV, None)
    environ.pop('NODE_CHANNEL_SERIALIZATION_MODE', None)
    if value is None:
        return None
    try:
        fd = int(value)
        os.set_inheritable(fd, False)
        os.set_blocking(fd, True)
    except (ValueError, OSError):
        return None
    return fd


def drain_acks(fd):
    """In the zygote, once select() found the channel readable: read what Node sent (ACK lines)
    and drop it; one read never blocks then.  False when the master's end is closed."""
    try:
        return os.read(fd, 65536) != b''
    except (BlockingIOError, InterruptedError):
        return True
    except OSError:
        return False


def unread_bytes(fd):
    """Bytes sent on the channel that the master has not read yet (SIOCOUTQ: a unix socket's
    sent data stays charged to the sender until the receiver consumes it; termios.TIOCOUTQ is
    the same request on Linux); 0 if unknown."""
    try:
        return struct.unpack('i', fcntl.ioctl(fd, termios.TIOCOUTQ, b'\0\0\0\0'))[0]
    except OSError:
        return 0


def wait_taken(fd, limit_s, poll_s=0.01):
    """Waits, up to limit_s, until the master has read every hand-over sent on the channel;
    whether it has."""
    deadline = time.monotonic() + limit_s
    while unread_bytes(fd) > 0:
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True


# The line Node's channel reads (a JSON object); built by formatting, not json.dumps: it runs for
# every handed-over connection.  Key order as json.dumps wrote it before, for a reader's eyes.
# "net.Native": Node gives the master the bare handle, so it builds one socket per connection
# (with "net.Socket" it built one that the master then rebuilt to read into its shared buffer).
_LINE = ('{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"berth":"http-direct","listener":%d,'
         '"pid":%d,"reason":%s,"served":%d%s}}\n')
_REASONS = {}  # reason -> its JSON string


def hand_line(index, pid, reason, served, ends=None):
    """The hand-over line (bytes); with `ends` when both are IP addresses that need no JSON
    escaping and the line stays within MAX_LINE."""
    quoted = _REASONS.get(reason)
    if quoted is None:
        quoted = json.dumps(reason)
        if len(_REASONS) < 64:
            _REASONS[reason] = quoted
    line = _LINE % (index, pid, quoted, served, _ends_json(ends))
    if len(line) > MAX_LINE and ends is not None:
        line = _LINE % (index, pid, quoted, served, '')
    return line.encode('ascii')


def _ends_json(ends):
    """',"ends":[local, local port, peer, peer port]', or '' when they cannot be said plainly (a
    unix socket's, an IPv6 scope the master might spell differently)."""
    if ends is None:
        return ''
    local, peer = ends
    if type(local) is not tuple or type(peer) is not tuple:
        return ''
    lhost, phost = local[0], peer[0]
    if not (_plain_host(lhost) and _plain_host(phost)):
        return ''
    return ',"ends":["%s",%d,"%s",%d]' % (lhost, local[1], phost, peer[1])


def _plain_host(host):
    return type(host) is str and host.isascii() and '"' not in host and '\\' not in host and '%' not in host


class HandOff(object):
    """A worker's end of the channel: hand(conn, index, reason, served)."""

    def __init__(self, fd, log):
        self.sock = socket.socket(fileno=os.dup(fd)) if fd is not None else None
        self.log = log
        self.pid = os.getpid()
        self.lock = threading.Lock()  # one sendmsg at a time from this process's threads
        self.counts = {}

    def hand(self, conn, index, reason, served, ends=None):
        """Sends the connection to the master and closes it here; False (connection closed)
        when the channel is gone.  `ends` ((local, peer) addresses, as accept() and
        getsockname() gave them), when known, travel in the line: the master then need not ask
        the kernel for them again (two system calls per connection)."""
        line = hand_line(index, self.pid, reason, served, ends)
        ok = False
        if len(line) > MAX_LINE:
            self.log('a hand-over line of %d bytes is over %d (%r); closed the connection' % (len(line), MAX_LINE, reason))
            conn.close()
            return False
        try:
            if self.sock is not None:
                # O_NONBLOCK belongs to the open file, which the master's copy shares, and libuv
                # sets it on no descriptor it receives: it reads until EAGAIN, so on a blocking
                # one its read after a body that ended on a full buffer waits for the client,
                # which waits for the answer — the master's whole loop hangs (as a big write does).
                conn.setblocking(False)
                with self.lock:
                    self.sock.sendmsg([line], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('i', conn.fileno()))])
                ok = True
                self.counts[reason] = self.counts.get(reason, 0) + 1
        except OSError as e:
            self.log('handing an HTTP connection to the master failed (%s); closed it' % e)
        conn.close()
        return ok
