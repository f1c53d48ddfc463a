"""Relays: direct connections left to the master, pumped through its channel socket.

A direct connection this worker leaves to the master is pumped through the master's channel
socket (RELAY frame, the bytes read so far, then both ways).  All relays of a worker share
one event loop (event_loop.py), so an idle or slow relayed peer costs two descriptors and a
few hundred bytes, never a thread.  Each direction holds at most one chunk: while it waits
to be written, the other end is not read (back-pressure, bounded memory)."""

import json
import socket
import threading
import time

from .event_loop import READ, WRITE
from .wire import RELAY, frame

# Relayed connections (two descriptors each) one worker carries at once.
MAX_RELAYS = 4096
# How long an exiting worker waits for its relays (the master kills it after its mercy anyway).
RELAY_EXIT_WAIT_S = 30.0
CHUNK = 65536


class Relays(object):
    """The relayed connections of one direct server, pumped by `loop`.  `flush_s`: how long a
    client that stopped reading may hold an answer the master has finished."""

    def __init__(self, loop, relay_path, token, log, flush_s=4.0):
        self.loop = loop
        self.relay_path = relay_path
        self.token = token
        self.log = log
        self.flush_s = flush_s
        self.open = set()
        self.lock = threading.Lock()
        self.none_open = threading.Condition(self.lock)
        loop.tickers.append(self.expire)

    def start(self, conn, data, index, peer_host, peer_port):
        """From any thread: RELAY, the bytes read, then both ways until closed; past
        MAX_RELAYS at once the connection is closed (and logged)."""
        with self.lock:
            full = len(self.open) >= MAX_RELAYS
        if full:
            self.log('%d connections are already relayed to the master; closed one from %s'
                     % (MAX_RELAYS, peer_host or 'a unix-socket peer'))
            conn.close()
            return
        self.loop.call(self.begin, conn, data, index, peer_host, peer_port)

    def begin(self, raw, data, index, peer_host, peer_port):
        conn = up = None
        try:
            conn = socket.socket(fileno=raw.fileno())
            raw.fd = -1  # the socket object owns the descriptor now
            conn.setblocking(False)  # no timeouts: the master's front applies its own
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.setblocking(False)
            up.connect(self.relay_path)  # a listening unix socket: at once, or EAGAIN when swamped
            local = conn.getsockname() if conn.family != socket.AF_UNIX else ('', 0)
            intro = json.dumps({'token': self.token, 'listener': index, 'peer': peer_host, 'port': peer_port,
                                'local': local[0], 'local_port': local[1]}).encode('utf-8')
        except OSError as e:
            self.log('relaying a connection to the master failed: %s' % e)
            for sock in (conn, up):
                if sock is not None:
                    sock.close()
            raw.close()
            return
        relayed = RelayedConnection(self, conn, up, frame(0, RELAY, intro) + data)
        with self.lock:
            self.open.add(relayed)
        relayed.pump_out()

    def closed(self, relayed):
        with self.lock:
            self.open.discard(relayed)
            if not self.open:
                self.none_open.notify_all()

    def expire(self, now):
        for relayed in [r for r in self.open if r.flush_deadline is not None and now >= r.flush_deadline]:
            relayed.close()

    def join(self, timeout):
        """At exit: relayed conversations under way finish (the master's mercy bounds the wait)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.open and time.monotonic() < deadline:
                self.none_open.wait(max(0.0, deadline - time.monotonic()))

    def count(self):
        with self.lock:
            return len(self.open)


class RelayedConnection(object):
    """One client and its channel to the master.  The client may half-close (its request is
    complete) and still get the answer; when the master's side ends, the answer is flushed and
    both are closed, so a client that never closes cannot hold the relay."""

    __slots__ = ('relays', 'loop', 'client', 'up', 'to_up', 'to_client', 'client_open', 'up_open',
                 'flush_deadline', 'done')

    def __init__(self, relays, client, up, first):
        self.relays = relays
        self.loop = relays.loop
        self.client = client
        self.up = up
        self.to_up = first  # bytes waiting for the master's side
        self.to_client = b''
        self.client_open = True  # False: the client half-closed; None: the master was told so
        self.up_open = True
        self.flush_deadline = None
        self.done = False

    def pump_out(self):
        """Writes what waits, then watches each end for what it can do next."""
        if self.to_up and not self.send(self.up, 'to_up'):
            return
        if self.to_client and not self.send(self.client, 'to_client'):
            return
        if not self.up_open and not self.to_client:
            return self.close()  # the master ended it and the client has it all
        if self.client_open is False and not self.to_up:
            self.client_open = None  # shut once
            try:
                self.up.shutdown(socket.SHUT_WR)  # the request is whole: the answer may still come
            except OSError:
                pass
        client_events = (READ if self.client_open and not self.to_up else 0) | (WRITE if self.to_client else 0)
        up_events = (READ if self.up_open and not self.to_client else 0) | (WRITE if self.to_up else 0)
        self.loop.change(self.client, client_events, self.client_ready)
        self.loop.change(self.up, up_events, self.up_ready)

    def send(self, sock, attr):
        data = getattr(self, attr)
        try:
            n = sock.send(data)
        except BlockingIOError:
            n = 0
        except OSError:
            self.close()
            return False
        setattr(self, attr, data[n:])
        return True

    def client_ready(self, mask):
        if mask & READ and self.client_open and not self.to_up:
            chunk = self.receive(self.client)
            if chunk is None:
                return
            if chunk:
                self.to_up = chunk
            else:
                self.client_open = False
        self.pump_out()

    def up_ready(self, mask):
        if mask & READ and self.up_open and not self.to_client:
            chunk = self.receive(self.up)
            if chunk is None:
                return
            if chunk:
                self.to_client = chunk
            else:
                self.up_open = False
                self.flush_deadline = time.monotonic() + self.relays.flush_s
        self.pump_out()

    def receive(self, sock):
        """A chunk, b'' at the end, or None when there is nothing yet (or the pair was closed)."""
        try:
            return sock.recv(CHUNK)
        except BlockingIOError:
            return None
        except OSError:
            if sock is self.client:
                return b''  # a reset client: the master still sees the end
            self.close()
            return None

    def close(self):
        if self.done:
            return
        self.done = True
        for sock in (self.client, self.up):
            self.loop.forget(sock)
            try:
                sock.close()
            except OSError:
                pass
        self.relays.closed(self)
