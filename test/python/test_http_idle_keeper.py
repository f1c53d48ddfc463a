"""The direct HTTP loop's thread rules (http_idle_keeper.py): when the keeper calls a parked
thread to an unattended loop, and when a thread back from the app parks.  Real threads and
their real CPU clocks; the keeper's `now` is passed in, so no decision waits on wall time."""

import os
import selectors
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'python'))

from berth_runtime.http_idle_keeper import HELP_S, IdleKeeper, LoopState, app_cpu, runnable  # noqa: E402


def task_state(tid):
    with open('/proc/self/task/%d/stat' % tid) as f:
        return f.read().rsplit(')', 1)[1].split()[0]


class AppThread(object):
    """A thread standing in for one in the app: `spin` runs Python code (on a CPU) until told to
    stop, counting its turns; otherwise it blocks on an event."""

    def __init__(self, spin):
        self.stop = threading.Event()
        self.turns = 0
        self.started = threading.Event()
        self.thread = threading.Thread(target=self.run_spin if spin else self.run_block)
        self.thread.start()
        self.started.wait()
        self.ident = self.thread.ident
        self.tid = self.thread.native_id
        while not spin and task_state(self.tid) != 'S':
            time.sleep(0.001)  # until it sleeps in its wait (the thread itself gets there)

    def run_spin(self):
        self.started.set()
        while not self.stop.is_set():
            self.turns += 1

    def run_block(self):
        self.started.set()
        self.stop.wait()

    def wait_turns(self, more):
        """Until the spinning thread has run `more` turns past now (it sets the count itself)."""
        goal = self.turns + more
        while self.turns < goal:
            time.sleep(0.001)

    def end(self):
        self.stop.set()
        self.thread.join()


def loop_state(threads=2):
    sel = selectors.DefaultSelector()
    state = LoopState(sel, {}, threads)
    return state, sel


def one_in_app_one_parked(state, app):
    """The loop as the keeper finds it: one looping thread (`app`) in the app, one parked."""
    state.looping = 1
    state.parked = 1
    state.tids[app.ident] = app.tid
    state.lock.acquire()
    state.enter_app(time.monotonic(), app.ident)
    state.lock.release()
    return state.busy_since


class KeeperCallsTest(unittest.TestCase):
    def sampled(self, spin):
        """A keeper that has taken its first look (which only samples) at one app thread."""
        state, sel = loop_state()
        app = AppThread(spin=spin)
        self.addCleanup(sel.close)
        self.addCleanup(app.end)
        since = one_in_app_one_parked(state, app)
        keeper = IdleKeeper(0.1, None)
        keeper.add(state)
        keeper.sweep(since + 2 * HELP_S)  # the first look only samples
        self.assertEqual(keeper.called, 0)
        self.assertIsNotNone(state.probe)
        return state, app, keeper, since

    def test_a_blocked_app_thread_gets_the_parked_thread_called(self):
        state, app, keeper, since = self.sampled(spin=False)
        keeper.sweep(since + 2 * HELP_S + 1.0)  # a second later, the app thread used no CPU to speak of
        self.assertEqual(keeper.called, 1)
        self.assertTrue(state.help.acquire(False), 'the parked thread was released')
        self.assertEqual((state.looping, state.parked), (2, 0))

    def test_a_computing_app_thread_does_not(self):
        state, app, keeper, since = self.sampled(spin=True)
        app.wait_turns(100000)  # it ran on a CPU since the sample...
        # ...for more than half of the (tiny) time the keeper is told passed
        keeper.sweep(since + 2 * HELP_S + 1e-6)
        self.assertEqual(state.probe[1], since + 2 * HELP_S + 1e-6, 'the second look was taken')
        self.assertEqual(keeper.called, 0)
        self.assertFalse(state.help.acquire(False))
        self.assertEqual((state.looping, state.parked), (1, 1))

    def test_app_cpu_reads_each_threads_clock(self):
        app = AppThread(spin=True)
        self.addCleanup(app.end)
        before = app_cpu([app.ident])
        app.wait_turns(100000)
        self.assertGreater(app_cpu([app.ident]), before)


class RunnableTest(unittest.TestCase):
    def test_this_thread_is_running_and_a_blocked_one_is_not(self):
        self.assertTrue(runnable(threading.get_native_id()))
        app = AppThread(spin=False)
        self.addCleanup(app.end)
        self.assertFalse(runnable(app.tid))
        self.assertFalse(runnable(None))


class ThreadBackFromAppTest(unittest.TestCase):
    def back_from_app(self, other_entered_ago):
        """Two looping threads in the app; this one comes back: its `yielding` verdict."""
        state, sel = loop_state()
        self.addCleanup(sel.close)
        other = AppThread(spin=False)
        self.addCleanup(other.end)
        me = threading.get_ident()
        state.looping = 2
        state.lock.acquire()
        state.enter_app(time.monotonic() - other_entered_ago, other.ident)
        state.enter_app(time.monotonic(), me)
        state.lock.release()
        state.leave_app(me)
        self.addCleanup(state.lock.release)
        self.assertEqual(state.in_app, 1)
        return state.yielding == me

    def test_parks_while_the_other_will_be_back_soon(self):
        self.assertTrue(self.back_from_app(0.0))

    def test_stays_while_the_other_has_been_in_the_app_long(self):
        self.assertFalse(self.back_from_app(1.0))

    def test_parking_leaves_the_loop_timed_when_the_rest_are_in_the_app(self):
        state, sel = loop_state()
        self.addCleanup(sel.close)
        other = AppThread(spin=False)
        self.addCleanup(other.end)
        state.looping = 2
        state.lock.acquire()
        state.enter_app(time.monotonic(), other.ident)
        self.assertEqual(state.busy_since, 0.0, 'this thread still serves the loop')
        state.park(lambda: True)  # a stop is under way: returns at once, the lock held again
        state.lock.release()
        self.assertGreater(state.busy_since, 0.0)


if __name__ == '__main__':
    unittest.main()
