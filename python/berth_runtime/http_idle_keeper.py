"""One worker's direct HTTP loop state: which thread serves it, and the keeper that calls a parked thread or hands idle connections to the master.

Theory of operation
-------------------
A worker's direct HTTP serving threads share one selector and one table of idle keep-alive
connections (a LoopState), guarded by a lock.  Exactly one thread runs the loop at a time:
it holds the lock except while the app runs and, with more than one thread, while it waits
in the selector (so a thread back from the app can put its connection back: a slow request
followed by pipelined ones would otherwise wait for the next event).  The other threads are
parked on a semaphore, so a fast app is served by one thread with no GIL hand-off, no
thread switch and no connection pinned to a thread that is not running (measured: two
threads each running their own loop served hello 0.81–0.97× as fast as one, with thousands
of voluntary switches per second per thread, docs/benchmarks.md "issue 16 item 2").
The extra threads are for apps that block: while every looping thread is in the app (the
loop is unattended) for HELP_S, the keeper wakes a parked thread, which takes the loop; a
thread that comes back from the app to find another serving the loop parks again.  With no thread
left to call (or only one thread), a loop unattended for the idle grace has its idle
connections handed to the master, so a request arriving on one does not wait behind the app
and a worker that dies (harakiri, a crash) takes no kept connection with it.  The serving
thread pays one uncontended release and acquire per request."""

import threading
import time

from .threads import run_signal_handlers

# How long the loop may stay unattended (every looping thread in the app) before a parked
# thread is called to serve it: long enough that a fast app never calls one, short enough
# that a blocking app's second request does not wait long for the second thread.
HELP_S = 0.005


class LoopState(object):
    """A worker's selector and idle connections (fd -> http_direct.Idle), and who serves them."""

    __slots__ = ('sel', 'idle', 'lock', 'busy_since', 'looping', 'in_app', 'parked', 'alive', 'help', 'yielding', 'selecting')

    def __init__(self, sel, idle, threads):
        self.sel = sel
        self.idle = idle
        self.lock = threading.Lock()
        # Monotonic time since when every looping thread is in the app; 0 while one serves the loop.
        self.busy_since = 0.0
        self.looping = 0  # threads not parked (each counts itself in as it starts)
        self.in_app = 0
        self.parked = 0
        self.alive = threads
        self.help = threading.Semaphore(0)
        # The thread that came back from the app to find another serving the loop (it had to
        # wait for the lock): it parks at its loop's next turn, so two threads never alternate.
        self.yielding = 0
        self.selecting = False  # a thread is in wait_ready without the lock

    def wait_ready(self, timeout):
        """The loop's select (lock held before and after).  With more than one thread it waits
        without the lock, so a thread back from the app can put its connection (pipelined
        requests may already be in it) back in the selector while this one waits there."""
        if self.alive == 1:
            return self.sel.select(timeout)
        self.selecting = True
        self.lock.release()
        try:
            return self.sel.select(timeout)
        finally:
            self.lock.acquire()
            self.selecting = False

    def enter_app(self, now):
        """Before the app runs (lock held; released right after)."""
        self.in_app += 1
        if self.in_app >= self.looping:
            self.busy_since = now

    def leave_app(self, ident):
        """After the app returned: takes the lock again."""
        if not self.lock.acquire(False):
            self.lock.acquire()
            self.yielding = ident
        elif self.selecting:
            self.yielding = ident  # another thread serves the loop
        self.in_app -= 1
        self.busy_since = 0.0

    def should_park(self, ident):
        """At a loop's turn (lock held): whether this thread is surplus there."""
        if self.yielding != ident:
            return False
        self.yielding = 0
        return self.looping > 1

    def park(self, stopping):
        """A surplus looping thread (lock held) waits until the keeper calls it or the worker
        stops (`stopping()`); returns with the lock held again."""
        self.looping -= 1
        self.parked += 1
        self.lock.release()
        called = False
        try:
            while not stopping():
                if self.help.acquire(timeout=0.25):
                    called = True  # the keeper counted it back as looping
                    break
                run_signal_handlers()  # the main thread may be the one parked
        finally:
            self.lock.acquire()
        if not called:
            self.parked -= 1
            self.looping += 1

    def wake_all(self):
        """At a stop: every parked thread leaves its wait."""
        for _ in range(self.alive):
            self.help.release()


class IdleKeeper(object):
    """Calls a parked thread to an unattended loop, or moves its idle connections to the master;
    run() is its thread."""

    def __init__(self, grace_s, handoff):
        self.grace_s = grace_s
        self.handoff = handoff
        self.states = []
        self.moved = 0
        self.called = 0

    def add(self, state):
        self.states.append(state)

    def run(self):
        period = self.grace_s
        while True:
            if any(s.alive > 1 for s in self.states):
                period = min(self.grace_s, HELP_S)
            time.sleep(period)
            self.sweep(time.monotonic())

    def sweep(self, now):
        for state in self.states:
            since = state.busy_since
            if not since or now - since < HELP_S:
                continue
            if not state.parked and (not state.idle or now - since < self.grace_s):
                continue
            if not state.lock.acquire(False):
                continue  # a thread serves the loop again
            try:
                if not state.busy_since:
                    continue
                if state.parked:
                    state.parked -= 1
                    state.looping += 1
                    state.busy_since = 0.0
                    self.called += 1
                    state.help.release()
                elif state.idle:
                    self.hand_all(state)
            finally:
                state.lock.release()

    def hand_all(self, state):
        idle = state.idle
        for fd in list(idle):
            item = idle.pop(fd)
            if item.registered:
                item.registered = False
                try:
                    state.sel.unregister(item.sock)
                except (KeyError, ValueError):
                    pass
            self.handoff.hand(item.sock, item.index, 'busy', item.served)
            self.moved += 1
