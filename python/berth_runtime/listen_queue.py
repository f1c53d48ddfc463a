"""The listen queue of the uwsgi unix sockets the workers accept on, and a warning when it is full.

Once a unix socket's queue holds `listen` connections, Linux refuses the next connect() at
once (EAGAIN): nginx logs "connect() to unix:... failed (11: Resource temporarily
unavailable)" and answers 502, and nothing reaches Berth to log.  The queue's length and limit
are visible only through sock_diag netlink (UNIX_DIAG_RQLEN, no privilege needed), which Node
cannot open, so the direct workers look once a second and say so, naming `listen`."""

import os
import socket
import struct
import time

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLMSG_ERROR = 2
NLMSG_HEADER = struct.Struct('=IHHII')
# unix_diag_req: family, protocol, pad, states, inode, show, cookie (two u32: "no cookie").
UNIX_DIAG_REQ = struct.Struct('=BBHIIIII')
UNIX_DIAG_MSG_BYTES = 16
RTATTR = struct.Struct('=HH')
UNIX_DIAG_RQLEN = 4
UDIAG_SHOW_RQLEN = 0x10
TCP_LISTEN_STATES = 1 << 10
NO_COOKIE = 0xFFFFFFFF
# For a listening socket the kernel reports (connections waiting for accept(), backlog).
RQLEN = struct.Struct('=II')

CHECK_EVERY_S = 1.0
# A queue that stays full is said again at most this often, per worker.
WARN_EVERY_S = 60.0


def unix_listen_queue(diag, inode):
    """(waiting, backlog) of the listening unix socket `inode`, or None when the kernel does
    not say (no such socket, or no sock_diag).  `diag` is an open NETLINK_SOCK_DIAG socket."""
    body = UNIX_DIAG_REQ.pack(socket.AF_UNIX, 0, 0, TCP_LISTEN_STATES, inode, UDIAG_SHOW_RQLEN, NO_COOKIE, NO_COOKIE)
    diag.send(NLMSG_HEADER.pack(NLMSG_HEADER.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0) + body)
    reply = diag.recv(8192)
    if len(reply) < NLMSG_HEADER.size + UNIX_DIAG_MSG_BYTES:
        return None
    length, kind = NLMSG_HEADER.unpack_from(reply)[:2]
    if kind == NLMSG_ERROR:
        return None
    at = NLMSG_HEADER.size + UNIX_DIAG_MSG_BYTES
    end = min(length, len(reply))
    while at + RTATTR.size <= end:
        size, attr = RTATTR.unpack_from(reply, at)
        if size < RTATTR.size:
            return None
        if attr == UNIX_DIAG_RQLEN and size >= RTATTR.size + RQLEN.size:
            return RQLEN.unpack_from(reply, at + RTATTR.size)
        at += (size + 3) & ~3
    return None


def full_queue_warning(path, waiting, backlog):
    return ('the listen queue of uwsgi socket %s is full (%d waiting, listen = %d): the front\'s '
            'next connect() is refused at once (nginx: "connect() to unix:%s failed (11: Resource '
            'temporarily unavailable)", a 502) - raise listen above the connections your front may '
            'open at once (nginx: its worker_connections, or the clients it serves at a time) and '
            'net.core.somaxconn with it, or add processes/threads so requests wait less'
            % (path, waiting, backlog, path))


class ListenQueueWatch(object):
    """Looks at the unix listeners' queues every CHECK_EVERY_S and logs when one is full.
    `listeners`: [(socket, unix, index)] as open_direct_listeners() returns them."""

    def __init__(self, listeners, log):
        self.log = log
        self.watched = []
        for sock, unix, _index in listeners:
            if not unix:
                continue  # a TCP socket's queue is in /proc/net/tcp, which the master reads
            try:
                self.watched.append((os.fstat(sock.fileno()).st_ino, sock.getsockname()))
            except OSError:
                continue
        self.warned_at = {}

    def run(self, stopping):
        """Until `stopping()` is true; a kernel without sock_diag ends it quietly."""
        if not self.watched:
            return
        try:
            diag = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
        except (AttributeError, OSError):
            return
        with diag:
            diag.settimeout(1.0)
            while not stopping():
                time.sleep(CHECK_EVERY_S)
                try:
                    self.check(diag)
                except socket.timeout:
                    continue  # a slow answer skips this round; the watch goes on
                except OSError:
                    return

    def check(self, diag):
        now = time.monotonic()
        for inode, path in self.watched:
            queue = unix_listen_queue(diag, inode)
            if queue is None:
                continue
            waiting, backlog = queue
            if waiting == 0 or waiting < backlog or now - self.warned_at.get(inode, -WARN_EVERY_S) < WARN_EVERY_S:
                continue
            self.warned_at[inode] = now
            self.log(full_queue_warning(path, waiting, backlog))
