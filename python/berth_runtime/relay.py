"""Relays: direct connections left to the master, pumped through its channel socket.

A direct connection this worker leaves to the master is pumped through the
master's channel socket (RELAY frame, the bytes read so far, then both ways), one helper
thread per connection, at most MAX_RELAYS at once."""

import json
import select
import socket
import struct
import threading
import time

from .threads import HelperThread
from .wire import RELAY, frame

# Relayed connections (each a thread) one worker carries at once.
MAX_RELAYS = 64
# How long an exiting worker waits for its relays (the master kills it after its mercy anyway).
RELAY_EXIT_WAIT_S = 30.0


class Relays(object):
    """The relayed connections of one direct server."""

    def __init__(self, relay_path, token, log):
        self.relay_path = relay_path
        self.token = token
        self.log = log
        self.threads = []
        self.lock = threading.Lock()

    def start(self, conn, data, index, peer_host, peer_port):
        """RELAY, the bytes read, then both ways until closed, in a thread of its own; past
        MAX_RELAYS at once the connection is closed (and logged)."""
        with self.lock:
            self.threads = [t for t in self.threads if t.is_alive()]
            full = len(self.threads) >= MAX_RELAYS
            if not full:
                t = HelperThread(relay_connection, 'berth-relay',
                                 args=(conn, data, self.relay_path, self.token, index, peer_host, peer_port, self.log))
                self.threads.append(t)
        if full:
            self.log('%d connections are already relayed to the master; closed one from %s'
                     % (MAX_RELAYS, peer_host or 'a unix-socket peer'))
            conn.close()
            return
        t.start()

    def join(self, timeout):
        """At exit: relayed conversations under way finish (the master's mercy bounds the wait)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            threads = list(self.threads)
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))


def relay_connection(raw, data, path, token, index, peer_host, peer_port, log):
    """Pumps a connection through the master's channel socket: RELAY first, then bytes both
    ways.  The client may half-close (its request is complete) and still get the answer; when
    the master's side ends, the conversation is over and both sides are closed, so a client
    that never closes cannot hold this thread."""
    conn = up = None
    try:
        conn = socket.socket(fileno=raw.fileno())
        # No timeout while relayed: the master's front applies its own (keep-alive, slow peers).
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack('ll', 0, 0))
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack('ll', 0, 0))
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(path)
        local = conn.getsockname() if conn.family != socket.AF_UNIX else ('', 0)
        intro = json.dumps({'token': token, 'listener': index, 'peer': peer_host, 'port': peer_port,
                            'local': local[0], 'local_port': local[1]}).encode('utf-8')
        up.sendall(frame(0, RELAY, intro) + data)
        poller = select.poll()  # not select(): descriptors past 1023 are fine
        poller.register(conn, select.POLLIN)
        poller.register(up, select.POLLIN)
        by_fd = {conn.fileno(): (conn, up), up.fileno(): (up, conn)}
        client_open = True
        while True:
            for fd, _ in poller.poll():
                src, dst = by_fd[fd]
                try:
                    chunk = src.recv(65536)
                except OSError:
                    chunk = b''
                if chunk:
                    dst.sendall(chunk)
                    continue
                if src is up:
                    return  # the master ended it: close both
                if client_open:
                    client_open = False  # half-close: the answer may still come
                    poller.unregister(conn)
                    up.shutdown(socket.SHUT_WR)
    except OSError as e:
        log('relaying a connection to the master failed: %s' % e)
    finally:
        if conn is None:
            raw.close()
        for sock in (conn, up):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
