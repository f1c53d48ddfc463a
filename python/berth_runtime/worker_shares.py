"""Connection shares: the kept connections each direct-HTTP worker holds, in a page its siblings share.

A kept connection stays with the worker that accepted it for its whole life, and the worker whose
loop happens to be back in select first accepts most of a burst (splits of 16/48 of wrk's 64 were
seen): its requests then wait behind twice as many others, and behind a front that pools its
connections one worker saturates while the other idles.  So each worker publishes how many
connections it holds (idle + in the app) in an anonymous shared mapping the zygote made before
forking, and one holding more than the workers' mean leaves the listener to the others for
DEFER_S, which keeps every split within one of even (8/8 of 16, 9/8 of 17).  No slack above the
mean: with a CPU-bound app (Django) every kept connection has a request queued, so a 10/6 split of
16 makes the crowded worker's requests wait 10/8 as long as 8/8's, for the connections' whole life.
Not every worker can be above the mean, so one of them always accepts.
No central accept: if no sibling accepted during STALL_DEFERRALS of them (one stuck in a long
request, dead, or not started yet) the worker accepts anyway, and goes on accepting without
deferring until a sibling's loop turns again, so the backlog never waits on a worker that is not
accepting.  Stale counts (a worker killed before it cleared its cell) only make the mean higher,
which defers less."""

import mmap
import selectors
import time

# How long a worker over its share stays out of the listener before it looks again.
DEFER_S = 0.002
# Deferrals in a row during which no sibling accepted before they count as stalled: 10 ms, longer
# than a busy machine keeps a runnable sibling waiting for a core, short for a held connection.
STALL_DEFERRALS = 5
# Per worker: connections held now, accepts since the page was made, loop turns (a sibling whose
# loop does not turn is in a long request, descheduled or dead).
_CELLS = 3


def over_share(held, total, workers):
    """Whether a worker holding `held` of the `total` connections `workers` hold is above the mean
    (accepting one more would put it more than one above the count's even split)."""
    return held * workers > total


class SharedCounts(object):
    """The page, made once before the workers are forked (fork keeps MAP_SHARED mappings shared)."""

    def __init__(self, workers):
        self.workers = workers
        self.page = mmap.mmap(-1, max(mmap.PAGESIZE, workers * _CELLS * 8))
        self.cells = memoryview(self.page).cast('q')

    def of(self, slot):
        """The share of worker `slot` (1-based, as the master numbers them)."""
        return ConnectionShare(self.cells, self.workers, (slot - 1) % self.workers)


class ConnectionShare(object):
    """One worker's cells and its deferral state; `cells` is any list of ints (tests pass a list)."""

    __slots__ = ('cells', 'workers', 'mine', 'siblings', 'held', 'seen', 'waits', 'stalled', 'rejoined')

    def __init__(self, cells, workers, index):
        self.cells = cells
        self.workers = workers
        self.mine = index * _CELLS
        self.siblings = tuple(i for i in range(0, workers * _CELLS, _CELLS) if i != self.mine)
        self.held = 0
        cells[self.mine] = 0  # a respawned worker starts with none
        self.seen = -1  # the siblings' accepts when this worker last deferred
        self.waits = 0  # deferrals in a row during which none of them accepted
        self.stalled = None  # their (accepts, loop turns) when a deferral found them not accepting
        self.rejoined = False  # back on the listener after a deferral, not yet judged

    def publish(self, held):
        """At each loop turn, before its select."""
        self.cells[self.mine + 2] += 1
        if held != self.held:
            self.held = held
            self.cells[self.mine] = held

    def accepted(self):
        self.held += 1
        cells, mine = self.cells, self.mine
        cells[mine] = self.held
        cells[mine + 1] += 1

    def others(self):
        """The siblings' (accepts, loop turns)."""
        cells, siblings = self.cells, self.siblings
        return sum(cells[i + 1] for i in siblings), sum(cells[i + 2] for i in siblings)

    def should_defer(self):
        """At the listener's readiness: whether to leave the connection to the others now (the
        caller stays off the listener for DEFER_S, then calls back_on_listener())."""
        cells = self.cells
        total = sum(cells[i] for i in range(0, self.workers * _CELLS, _CELLS))
        if not over_share(self.held, total, self.workers):
            self.rejoined = False
            return False
        now = self.others()
        if now == self.stalled:
            return False  # no sibling has accepted or turned its loop since they were found stalled
        self.stalled = None
        if self.rejoined:
            self.rejoined = False
            self.waits = self.waits + 1 if now[0] == self.seen else 0
            if self.waits >= STALL_DEFERRALS:  # the connection waited them out and nobody took it
                self.waits = 0
                self.stalled = now
                return False
        self.seen = now[0]
        return True

    def back_on_listener(self):
        self.rejoined = True


class ListenerTurns(object):
    """A worker loop's side of the shares: publishes what it holds before each select, and takes
    its listeners out of the selector for DEFER_S while it is over its share (so it neither
    accepts nor spins on their readiness meanwhile).  Called with the loop's lock held."""

    __slots__ = ('share', 'listeners', 'rejoin_at')

    def __init__(self, share, listeners):
        self.share = share
        self.listeners = listeners  # (socket, listener index) pairs, as registered
        self.rejoin_at = 0.0  # while off the listeners: when to come back

    def before_select(self, sel, held, timeout):
        """The select's timeout, bounded by the end of a deferral."""
        self.share.publish(held)
        if not self.rejoin_at:
            return timeout
        left = self.rejoin_at - time.monotonic()
        if left > 0:
            return min(timeout, left)
        self.rejoin_at = 0.0
        for sock, index in self.listeners:
            if sock.fileno() >= 0:  # not closed by a stop meanwhile
                sel.register(sock, selectors.EVENT_READ, (sock, index))
        self.share.back_on_listener()
        return timeout

    def defer(self, sel):
        """At a listener's readiness: True if this worker leaves the connection to the others."""
        if self.rejoin_at:
            return True  # another listener's event of the same select
        if not self.share.should_defer():
            self.share.accepted()  # counted as it tries: EAGAIN means a sibling took it (accepting too)
            return False
        for sock, _ in self.listeners:
            sel.unregister(sock)
        self.rejoin_at = time.monotonic() + DEFER_S
        return True
