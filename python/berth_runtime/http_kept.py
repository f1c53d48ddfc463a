"""The kept connections a direct-HTTP worker holds idle: how long (its listener's timeout), how many, and what happens at the end.

Theory of operation
-------------------
A kept connection waits for its next request in the worker's selector for as long as the
master would let it wait: its listener's timeout (http-timeout, or socket-timeout for an
http-socket listener).  At that deadline it is closed here, silently, as the master closes an
idle one; one whose request arrived meanwhile (a thread kept busy past the deadline) is served
instead.  It is not handed to the master on the way: a handed connection stays on the master
path for good, at 2-3x the CPU per request (docs/benchmarks.md, s12A and s16H), and a proxy's
or a browser's pool pauses for seconds as a matter of course.  It goes to the master only when
holding it would hurt: past HTTP_IDLE_MAX idle connections in this worker (the least recently
used go first), while the worker's threads are all in the app (http_idle_keeper.py), and at a
stop or reload (http_direct.py).

The table (fd -> Idle) is in last-use order: a connection is taken out while it is served and
put back at the end.  With every listener on one timeout that is also deadline order, so the
loop looks at the first entry only; with listeners on different timeouts it looks at all of
them (at most HTTP_IDLE_MAX)."""

import selectors
import socket
import time

from .http_idle_keeper import Idle

# Idle keep-alive connections one worker holds.  A proxy pools a few dozen per backend (nginx's
# `keepalive 32`-`64` per nginx worker, Berth's front up to one per request in flight), shared by
# a backend's workers, so a few dozen per worker keeps a proxy's whole pool direct; epoll costs
# nothing per idle registration, and each costs a socket's kernel buffers and ~200 bytes here.
# Past it the least recently used go to the master, so a thousand idle browsers end up there
# and the worker's loop stays small.
HTTP_IDLE_MAX = 64
_PEEK = socket.MSG_PEEK | socket.MSG_DONTWAIT


def idle_limits(hcfg):
    """Listener index -> (seconds a worker keeps a connection idle, whether it then closes it):
    the listener's timeout, then closed as the master would close it; a listener with no
    timeout given (0: the master always gives one) has its idle connections handed over."""
    out = {}
    for spec in hcfg['listeners']:
        timeout_s = spec['timeout_ms'] / 1000.0
        out[spec['index']] = (timeout_s, True) if timeout_s > 0 else (0.0, False)
    return out


def forget(sel, idle, item):
    """Takes a registered connection out of the selector before it is handed over (the master's
    copy would keep a registration alive) or closed."""
    if item is not None:
        if idle.get(item.fd) is item:
            del idle[item.fd]
        if item.registered:
            item.registered = False
            sel.unregister(item.fd)


class KeptConnections(object):
    """The idle connections' deadlines and bound for one worker's loops; `handoff`: an
    http_handoff.HandOff.  Called with the loop's lock held."""

    __slots__ = ('limits', 'uniform', 'handoff', 'evicted')

    def __init__(self, hcfg, handoff):
        self.limits = idle_limits(hcfg)  # every listener's index (hcfg's)
        self.uniform = len(set(s for s, _ in self.limits.values())) <= 1
        self.handoff = handoff
        self.evicted = 0  # handed over past HTTP_IDLE_MAX

    def next_deadline(self, idle):
        """The earliest deadline in a non-empty table."""
        if self.uniform:
            return next(iter(idle.values())).deadline
        return min(i.deadline for i in idle.values())

    def keep(self, sock, index, served, ends, sel, idle, item):
        """Waits for the next request in the selector; `item` (already registered, out of the
        table while it was served) goes back at the end of the table."""
        deadline = time.monotonic() + self.limits[index][0]
        if item is not None:
            if not item.registered:
                sel.register(sock, selectors.EVENT_READ, item)
                item.registered = True
            item.served = served
            item.deadline = deadline
        else:
            item = Idle(sock, index, served, ends, deadline)
            # Registered first: if that fails, the caller closes the socket and no closed one is
            # left in the table for expire() to unregister (a KeyError that would end the loop).
            sel.register(sock, selectors.EVENT_READ, item)
        idle[item.fd] = item
        while len(idle) > HTTP_IDLE_MAX:
            oldest = next(iter(idle.values()))
            forget(sel, idle, oldest)
            self.evicted += 1
            self.handoff.hand(oldest.sock, oldest.index, 'idle', oldest.served, oldest.ends)

    def expire(self, sel, idle, serve):
        """Idle connections past their deadline are closed (or handed over, where no timeout
        was given); one whose request arrived meanwhile is served: serve(sock, index, served, ends)."""
        now = time.monotonic()
        if self.uniform:
            due = []
            for i in idle.values():
                if i.deadline > now:
                    break
                due.append(i)
        else:
            due = [i for i in idle.values() if i.deadline <= now]
        for i in due:
            # serve() runs the app with the loop's lock released: meanwhile another thread may
            # have taken this one to serve it, kept it again with a new deadline, or handed it over.
            if idle.get(i.fd) is not i or i.deadline > now:
                continue
            forget(sel, idle, i)
            try:
                waiting = i.sock.recv(1, _PEEK)
            except (BlockingIOError, InterruptedError):
                waiting = None
            except OSError:
                waiting = b''
            if waiting:
                serve(i.sock, i.index, i.served, i.ends)
            elif waiting is None and not self.limits[i.index][1]:
                self.handoff.hand(i.sock, i.index, 'idle', i.served, i.ends)
            else:
                i.sock.close()
