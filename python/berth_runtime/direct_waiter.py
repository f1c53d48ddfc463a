"""The direct path's waiter: collects requests that are not whole yet, without a thread each.

Theory of operation
-------------------
A serving thread only runs a request whose packet (head and vars) and whole body are in
hand.  A connection that has not sent that much when it is accepted is adopted here: one
event loop per worker (event_loop.py, epoll) reads what each peer sends, and
  - once the request is whole, puts it on the ReadyQueue the accepting threads also wait on;
  - when the bytes turn out to be the master's to judge (HTTP, a bad or oversized packet, a
    body above MAX_BUFFERED_BYTES, a static path...), relays the connection (relay.py);
  - when the peer closes before the request is whole, relays it too, so the master answers
    exactly as it does for a truncated request on its own path (a short body: 400);
  - when nothing moved for the socket timeout, closes it, as the master does.
Memory is bounded per connection (MAX_BUFFERED_BYTES), in all (WAITER_MAX_BYTES: past it a
connection goes on to the master, which spools bodies to disk) and in count (MAX_WAITING:
past it the connection idle longest is closed)."""

import collections
import os
import time

from .event_loop import READ

# A request (packet and body) the worker buffers itself; a bigger one is relayed.
MAX_BUFFERED_BYTES = 1 << 20
# All the bytes the waiter of one worker holds at once.
WAITER_MAX_BYTES = 16 << 20
# Connections the waiter of one worker holds at once.
MAX_WAITING = 4096
CHUNK = 65536

# examine()'s verdicts on the bytes a connection has sent so far.
NEED_MORE, RELAY, SERVE = 0, 1, 2


class ReadyQueue(object):
    """Whole requests for the serving threads, which wait on `fd` (with the listening
    sockets): one byte in the pipe per request, so each request goes to exactly one thread."""

    def __init__(self):
        self.items = collections.deque()
        self.fd, self.wake_w = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self.wake_w, False)

    def put(self, item):
        """False when the pipe is full (tens of thousands of requests waiting for a thread)."""
        self.items.append(item)
        try:
            os.write(self.wake_w, b'x')
            return True
        except BlockingIOError:
            self.items.pop()  # has no byte yet, so no thread can have taken it
            return False

    def take(self):
        """A request, or None when another thread took it first."""
        try:
            if not os.read(self.fd, 1):
                return None
        except BlockingIOError:
            return None
        return self.items.popleft()


class Waiting(object):
    """A connection the waiter holds, with what its peer has sent so far."""

    __slots__ = ('conn', 'data', 'need', 'deadline', 'index', 'peer_host', 'peer_port', 'kept')

    def __init__(self, conn, data, need, deadline, index, peer_host, peer_port, kept):
        self.kept = kept  # a keep-alive connection back for its front's next packet
        self.conn = conn
        self.data = bytearray(data)
        self.need = need
        self.deadline = deadline
        self.index = index
        self.peer_host = peer_host
        self.peer_port = peer_port


class Waiter(object):
    """`examine(data)` -> (verdict, what): the direct server's judgement of the bytes so far;
    `relay(conn, data, index, peer_host, peer_port)` hands a connection to the master;
    `ready` takes the whole requests as (conn, data, (modifier1, size, vars, length), index,
    peer_host, peer_port)."""

    def __init__(self, loop, examine, relay, ready, timeout_s, log):
        self.loop = loop
        self.examine = examine
        self.relay = relay
        self.ready = ready
        self.timeout_s = timeout_s
        self.log = log
        self.waiting = collections.OrderedDict()  # fd -> Waiting, the longest idle first
        self.held = 0  # bytes in all the Waiting.data
        # Connections adopted, and settled (served, relayed or closed): each count has one
        # writer thread (a blocking accept loop, which alone asks holds(); the loop's thread).
        self.adopted = 0
        self.settled = 0
        loop.tickers.append(self.expire)

    def adopt(self, conn, data, need, index, peer_host, peer_port, kept=False):
        """From an accepting thread: the connection is the waiter's from now on.  `kept`: a
        keep-alive connection after its response (uwsgi_kept_request.py), idle until its front's
        next packet; its idle end is not worth a log line."""
        self.adopted += 1
        self.loop.call(self.begin, conn, data, need, index, peer_host, peer_port, kept)

    def begin(self, conn, data, need, index, peer_host, peer_port, kept=False):
        if len(self.waiting) >= MAX_WAITING:
            self.drop(self.release(next(iter(self.waiting.values()))))
            self.log('%d connections wait for their request on this worker; closed the one idle longest'
                     % MAX_WAITING)
        w = Waiting(conn, data, need, time.monotonic() + self.timeout_s, index, peer_host, peer_port, kept)
        self.waiting[conn.fd] = w
        self.held += len(data)
        self.loop.watch(conn.fd, READ, lambda mask: self.readable(w))

    def readable(self, w):
        if self.held + CHUNK > WAITER_MAX_BYTES:
            return self.hand_over(w)
        try:
            chunk = os.read(w.conn.fd, CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self.drop(self.release(w))
        if not chunk:
            # Closed before the request was whole: the master answers as it does on its path.
            return self.hand_over(w) if w.data else self.drop(self.release(w))  # a kept one's front closed it
        w.data += chunk
        self.held += len(chunk)
        self.waiting.move_to_end(w.conn.fd)
        w.deadline = time.monotonic() + self.timeout_s
        if len(w.data) < w.need:
            return
        verdict, what = self.examine(w.data)
        if verdict == NEED_MORE:
            w.need = what
            return
        self.release(w)
        data = bytes(w.data)
        if not (verdict == SERVE and self.ready.put((w.conn, data, what, w.index, w.peer_host, w.peer_port))):
            self.relay(w.conn, data, w.index, w.peer_host, w.peer_port)
        self.settled += 1

    def release(self, w):
        """Stops watching w's connection; the caller decides what becomes of it."""
        self.loop.forget(w.conn.fd)
        self.waiting.pop(w.conn.fd, None)
        self.held -= len(w.data)
        return w

    def holds(self):
        """Whether a connection adopted may still become a request for the serving threads
        (one made ready is on the ReadyQueue before it counts as settled)."""
        return self.adopted != self.settled

    def hand_over(self, w):
        self.release(w)
        self.relay(w.conn, bytes(w.data), w.index, w.peer_host, w.peer_port)
        self.settled += 1

    def drop(self, w):
        try:
            w.conn.close()
        except OSError:
            pass
        self.settled += 1

    def expire(self, now):
        late = [w for w in self.waiting.values() if now >= w.deadline]
        silent = sum(1 for w in late if w.kept and not w.data)
        if len(late) > silent:  # one line per tick, however many peers; written before a peer can see its close
            self.log('closed %d uwsgi connection(s) that sent no whole request within socket-timeout (%g s)'
                     % (len(late) - silent, self.timeout_s))
        for w in late:
            self.drop(self.release(w))

    def hand_over_all(self, done):
        """At exit (in the loop's thread): every connection still waiting goes to the master."""
        for w in list(self.waiting.values()):
            self.hand_over(w)
        done()
