"""Keeps each worker's share of the direct HTTP keep-alive connections near its siblings': a worker well over its share stops accepting for a moment.

Theory of operation
-------------------
A keep-alive connection stays with the worker that accepted it.  Which worker accepts is a
race (every worker waits on the one listener), and a burst of new connections can land
unevenly: splits of 21/43, 16/48 and even 64/0 of wrk's 64 connections were measured
(docs/benchmarks.md, "issue 16 item 2: the tail").  A request on the crowded worker waits
behind up to twice as many others, which is the latency tail.  So the zygote maps one shared
page before it forks (a counter per worker slot: the connections it holds, plus one; 0 = no
worker), each worker publishes its count at every turn of its loop, and a worker holding
more than MARGIN connections above its least loaded sibling takes its listeners out of its
selector for PAUSE_S, leaving the next connections to the others.  After a pause the worker
accepts at least once before it may pause again, and the zygote zeroes the slot of a worker
it reaped, so a sibling that hangs (its count frozen) or died never starves the listener."""

import mmap
import selectors

SLOTS = 64
MARGIN = 2
PAUSE_S = 0.02


class ConnectionShares(object):
    """The shared counters; `slot` is set in each forked worker (take_slot)."""

    def __init__(self):
        self.page = mmap.mmap(-1, SLOTS * 4)  # anonymous and MAP_SHARED: forked workers share it
        self.counts = memoryview(self.page).cast('i')
        self.slot = None

    def take_slot(self, slot):
        """In a forked worker: its slot (the master's worker slot, reused by a respawn)."""
        self.slot = slot % SLOTS
        self.counts[self.slot] = 1

    def release(self, slot):
        """In the zygote, once it reaped the worker of `slot`: its count no longer counts."""
        self.counts[slot % SLOTS] = 0

    def publish(self, held):
        if self.slot is not None:
            self.counts[self.slot] = held + 1

    def over_share(self, held):
        """Whether this worker, holding `held` connections, should leave the next ones to a sibling."""
        if self.slot is None or held <= MARGIN:
            return False
        mine = self.slot
        least = min((c for i, c in enumerate(self.counts) if c and i != mine), default=0)
        return least > 0 and held + 1 > least + MARGIN


class AcceptPacer(object):
    """One worker's listeners in its selector, taken out while it is over its share."""

    def __init__(self, shares, listeners):
        self.shares = shares
        self.listeners = listeners  # [(socket, index)], registered with (socket, index) as data
        self.paused_until = 0.0
        self.resumed = False

    def turn(self, sel, held, now, timeout):
        """At each loop turn: publishes `held`, brings the listeners back when the pause is
        over; the select timeout, bounded by the pause's end."""
        self.shares.publish(held)
        if self.paused_until:
            if now < self.paused_until:
                return min(timeout, self.paused_until - now)
            for sock, index in self.listeners:
                sel.register(sock, selectors.EVENT_READ, (sock, index))
            self.paused_until = 0.0
            self.resumed = True
        return timeout

    def may_accept(self, sel, held, now):
        """At a listener's event: False (listeners out of the selector for PAUSE_S) when this
        worker should leave the connection to a sibling."""
        if self.paused_until:
            return False  # paused by an earlier event of the same turn
        if self.resumed or not self.shares.over_share(held):
            self.resumed = False
            return True
        for sock, _ in self.listeners:
            sel.unregister(sock)
        self.paused_until = now + PAUSE_S
        return False
