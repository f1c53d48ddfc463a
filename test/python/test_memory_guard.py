"""reload-on-rss in the worker (memory_guard.py): after a request, a worker whose RSS is over
the limit asks once to be replaced; one under it, or already over it at start, does not."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'python'))
from berth_runtime.memory_guard import MemoryGuard, read_rss_bytes  # noqa: E402

MB = 1 << 20


def current_rss():
    fd = os.open('/proc/self/statm', os.O_RDONLY)
    try:
        return read_rss_bytes(fd, os.sysconf('SC_PAGE_SIZE'))
    finally:
        os.close(fd)


class MemoryGuardTest(unittest.TestCase):
    def guard(self, limit):
        calls, logged = [], []
        g = MemoryGuard(limit, lambda rss, lim: calls.append((rss, lim)), logged.append)
        self.addCleanup(os.close, g.statm_fd)
        return g, calls, logged

    def test_under_the_limit_nothing_happens(self):
        g, calls, logged = self.guard(current_rss() + 512 * MB)
        for _ in range(100):
            g.after_request()
        self.assertEqual((calls, logged), ([], []))

    def test_over_the_limit_after_a_request_it_asks_once(self):
        limit = current_rss() + 40 * MB
        g, calls, logged = self.guard(limit)
        g.after_request()
        self.assertEqual(calls, [])
        held = bytearray(60 * MB)  # zero-filled: its pages are touched, so resident
        g.after_request()
        g.after_request()
        self.assertEqual(len(calls), 1)
        rss, told = calls[0]
        self.assertEqual(told, limit)
        self.assertGreaterEqual(rss, limit)
        self.assertEqual(logged, [])
        del held

    def test_a_peak_that_passed_is_not_a_current_rss_over_the_limit(self):
        limit = current_rss() + 40 * MB
        g, calls, _ = self.guard(limit)
        transient = bytearray(60 * MB)
        del transient  # freed: the peak (ru_maxrss) stays over the limit, the current RSS does not
        self.assertLess(current_rss(), limit, 'a freed 60 MB block goes back to the system (mmap)')
        g.after_request()
        self.assertEqual(calls, [])

    def test_already_over_the_limit_at_start_it_stays_off_and_says_why(self):
        g, calls, logged = self.guard(1 * MB)
        g.after_request()
        self.assertEqual(calls, [])
        self.assertEqual(len(logged), 1)
        self.assertIn('more than reload-on-rss = 1 MB', logged[0])


if __name__ == '__main__':
    unittest.main()
