"""Hands the idle keep-alive connections of a direct HTTP thread that is busy in the app to the master.

Theory of operation
-------------------
A serving thread of http_direct.py holds the keep-alive connections it served in its own
selector for a short grace (HTTP_IDLE_S), and expires them only between requests.  While it
runs a long request those connections would wait for it: a request arriving on one would
wait behind the app, and if the worker died (harakiri, a crash) they would die with it and a
client reusing one would see a reset.  So each thread's selector and idle table sit in a
LoopState guarded by a lock the thread holds except while the app runs; the keeper thread
looks every grace period, and for a thread in the app for longer than the grace it takes the
lock (never waiting for it) and hands every idle connection of that thread to the master,
which holds idle connections at no thread's cost.  The serving thread pays one uncontended
release and acquire per request."""

import threading
import time


class LoopState(object):
    """One serving thread's selector and idle connections (fd -> http_direct.Idle)."""

    __slots__ = ('sel', 'idle', 'lock', 'busy_since')

    def __init__(self, sel, idle):
        self.sel = sel
        self.idle = idle
        self.lock = threading.Lock()
        self.busy_since = 0.0  # monotonic start of the request in the app; 0 between requests


class IdleKeeper(object):
    """Moves a busy thread's idle connections to the master; run() is its thread."""

    def __init__(self, grace_s, handoff):
        self.grace_s = grace_s
        self.handoff = handoff
        self.states = []
        self.moved = 0

    def add(self, state):
        self.states.append(state)

    def run(self):
        while True:
            time.sleep(self.grace_s)
            self.sweep(time.monotonic())

    def sweep(self, now):
        for state in self.states:
            since = state.busy_since
            if not since or not state.idle or now - since < self.grace_s:
                continue
            if not state.lock.acquire(False):
                continue  # the thread is between requests again: it expires them itself
            try:
                if state.busy_since:
                    self.hand_all(state)
            finally:
                state.lock.release()

    def hand_all(self, state):
        idle = state.idle
        for fd in list(idle):
            item = idle.pop(fd)
            try:
                state.sel.unregister(item.sock)
            except (KeyError, ValueError):
                pass
            self.handoff.hand(item.sock, item.index, 'busy', item.served)
            self.moved += 1
