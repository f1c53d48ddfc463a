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
loop is unattended) for HELP_S and those threads are not computing (their CPU clocks ran for
less than COMPUTING_SHARE of the time: a slow CPU-bound request, or one preempted, would only
take turns at the GIL with a second thread), the keeper wakes a parked thread, which takes the
loop; a thread that comes back from the app to find another serving the loop, or in the app
for less than HELP_S (likely back soon), parks again.  With no thread
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
# The share of the time the threads in the app spent on a CPU above which they count as
# computing, not blocked: calling a parked thread then only splits the GIL with them.
COMPUTING_SHARE = 0.5


class Idle(object):
    """A kept connection registered in its thread's selector (under `fd`, its key there)."""

    __slots__ = ('sock', 'fd', 'index', 'served', 'ends', 'deadline', 'registered')

    def __init__(self, sock, index, served, ends, deadline):
        self.sock = sock
        self.fd = sock.fileno()
        self.index = index
        self.served = served
        self.ends = ends  # (local, peer) addresses
        self.deadline = deadline
        # False once a loop found it ready while another thread was serving it (in the app) and
        # took it out of the selector, so that level-triggered readiness does not spin the loop.
        self.registered = True


class LoopState(object):
    """A worker's selector and idle connections (fd -> Idle), and who serves them."""

    __slots__ = ('sel', 'idle', 'lock', 'busy_since', 'looping', 'in_app', 'entered', 'parked', 'alive', 'help', 'yielding',
                 'selecting', 'probe', 'tids')

    def __init__(self, sel, idle, threads):
        self.sel = sel
        self.idle = idle
        self.lock = threading.Lock()
        # Monotonic time since when every looping thread is in the app; 0 while one serves the loop.
        self.busy_since = 0.0
        self.looping = 0  # threads not parked (each counts itself in as it starts)
        self.in_app = 0
        self.entered = {}  # thread ident -> monotonic time it entered the app, while it is there
        self.parked = 0
        self.alive = threads
        self.help = threading.Semaphore(0)
        # The thread that came back from the app to find another serving the loop (it had to
        # wait for the lock): it parks at its loop's next turn, so two threads never alternate.
        self.yielding = 0
        self.selecting = False  # a thread is in wait_ready without the lock
        # The keeper's last look at an unattended stretch: (busy_since, when, app threads' CPU s).
        self.probe = None
        self.tids = {}  # thread ident -> its kernel thread id (each serving thread adds itself)

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

    def enter_app(self, now, ident):
        """Before the app runs (lock held; released right after)."""
        self.in_app += 1
        self.entered[ident] = now
        if self.in_app >= self.looping:
            self.busy_since = now

    def leave_app(self, ident):
        """After the app returned: takes the lock again."""
        if not self.lock.acquire(False):
            self.lock.acquire()
            self.yielding = ident
        elif self.selecting:
            self.yielding = ident  # another thread serves the loop
        del self.entered[ident]
        self.in_app -= 1
        self.busy_since = 0.0
        if self.in_app and self.yielding != ident and self.looping > 1 and self.other_back_soon():
            # Another looping thread is in the app but has not been there for HELP_S: it is
            # likely back soon, so this one parks.  Without this, two threads called in for one
            # slow request both kept looping while a CPU-bound app kept each busy (each found
            # the other in the app, never serving the loop) and split the GIL from then on.
            self.yielding = ident

    def other_back_soon(self):
        now = time.monotonic()
        for since in self.entered.values():
            if now - since < HELP_S:
                return True
        return False

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
        if self.looping and self.in_app >= self.looping and not self.busy_since:
            self.busy_since = time.monotonic()  # the loop is unattended from now: the keeper times it
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


def app_cpu(entered):
    """The CPU seconds the threads `entered` (idents) have used, or None where no thread CPU
    clock can be read."""
    total = 0.0
    try:
        for ident in entered:
            total += time.clock_gettime(time.pthread_getcpuclockid(ident))
    except (AttributeError, OSError):
        return None
    return total


def runnable(tid):
    """Whether the kernel thread `tid` of this process is running or waiting for a CPU (state R);
    False where that cannot be read."""
    if tid is None:
        return False
    try:
        with open('/proc/self/task/%d/stat' % tid, 'rb') as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(b')') + 2:stat.rindex(b')') + 3] == b'R'


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
                if state.parked and not self.computing(state, now):
                    state.parked -= 1
                    state.looping += 1
                    state.busy_since = 0.0
                    self.called += 1
                    state.help.release()
                elif state.idle and now - state.busy_since >= self.grace_s:
                    self.hand_all(state)
            finally:
                state.lock.release()

    def computing(self, state, now):
        """Whether the threads in the app ran on a CPU for COMPUTING_SHARE of the time since the
        keeper's previous look at this unattended stretch (a CPU-bound request made slow by its
        own work or by preemption, where a second thread would only take turns at the GIL with
        it); the first look only takes the sample."""
        cpu = app_cpu(state.entered)
        if cpu is None:
            return False
        probe, state.probe = state.probe, (state.busy_since, now, cpu)
        if probe is None or probe[0] != state.busy_since:
            return True
        if cpu - probe[2] >= (now - probe[1]) * COMPUTING_SHARE:
            return True
        # Little CPU, but on a run queue (preempted on a busy machine): not blocked either.
        return any(runnable(state.tids.get(ident)) for ident in state.entered)

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
            self.handoff.hand(item.sock, item.index, 'busy', item.served, item.ends)
            self.moved += 1
