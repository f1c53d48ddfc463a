"""One helper thread's epoll loop: descriptors, calls posted from other threads, a tick.

The direct path's waiter (direct_waiter.py) and relays (relay.py) share it, so a worker holds
any number of idle, slow or relayed connections with this one thread.  selectors picks epoll
on Linux: no FD_SETSIZE limit, and the cost of a wait does not grow with the idle peers."""

import collections
import os
import selectors
import time
import traceback

from .threads import HelperThread

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class EventLoop(object):
    """Runs in its own thread once start()ed.  Everything but call() and start() is for the
    loop's own thread: the callbacks registered here and the calls posted run there."""

    def __init__(self, tick_s, name, log):
        self.tick_s = tick_s
        self.name = name
        self.log = log
        self.selector = selectors.DefaultSelector()
        self.calls = collections.deque()
        self.tickers = []  # tick(now), every tick_s
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.selector.register(self.wake_r, READ, self.woken)
        self.thread = None

    def start(self):
        """Started before any peer arrives, so idle peers never change the thread count."""
        self.thread = HelperThread(self.run, self.name)
        self.thread.start()

    def call(self, fn, *args):
        """From any thread: fn(*args) runs in the loop's thread, in order."""
        self.calls.append((fn, args))
        try:
            os.write(self.wake_w, b'x')
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already: the loop is awake

    def woken(self, mask):
        try:
            os.read(self.wake_r, 4096)
        except BlockingIOError:
            pass

    def watch(self, fileobj, events, callback):
        """callback(mask) whenever fileobj is ready for `events` (0: not watched)."""
        if events:
            self.selector.register(fileobj, events, callback)

    def change(self, fileobj, events, callback):
        """Watches fileobj for `events` from now on, registered or not (0: stop watching)."""
        try:
            key = self.selector.get_key(fileobj)
        except KeyError:
            return self.watch(fileobj, events, callback)
        if not events:
            self.selector.unregister(fileobj)
        elif key.events != events or key.data is not callback:
            self.selector.modify(fileobj, events, callback)

    def forget(self, fileobj):
        try:
            self.selector.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    def run(self):
        next_tick = time.monotonic() + self.tick_s
        calls = self.calls
        while True:
            for key, mask in self.selector.select(max(0.0, next_tick - time.monotonic())):
                self.guarded(key.data, mask)
            while calls:
                fn, args = calls.popleft()
                self.guarded(fn, *args)
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + self.tick_s
                for tick in self.tickers:
                    self.guarded(tick, now)

    def guarded(self, fn, *args):
        """A bug in one connection's handling must not stop the loop that holds all the others."""
        try:
            fn(*args)
        except Exception:
            self.log('%s: %s' % (self.name, traceback.format_exc()))
