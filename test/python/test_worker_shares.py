"""Connection shares (worker_shares.py): when a worker over its share leaves a connection to its
siblings, and that it accepts anyway once they are found not accepting.  Cells are a plain list,
and one test the real shared page across a real fork."""

import os
import selectors
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'python'))

from berth_runtime.worker_shares import (  # noqa: E402
    DEFER_S, STALL_DEFERRALS, ConnectionShare, ListenerTurns, SharedCounts, over_share)


def pair():
    cells = [0] * 6
    return cells, ConnectionShare(cells, 2, 0), ConnectionShare(cells, 2, 1)


def arrivals(shares, count):
    """`count` connections arriving one at a time, each offered first to shares[0] (the worker
    whose loop is back in select first), then to the others in turn; the held counts after."""
    for _ in range(count):
        for share in shares:
            if not share.should_defer():
                share.accepted()
                break
        else:
            raise AssertionError('every worker deferred the connection')
        for share in shares:
            share.back_on_listener()
    return [share.held for share in shares]


class OverShare(unittest.TestCase):
    def test_above_the_mean_is_over(self):
        self.assertFalse(over_share(32, 64, 2))
        self.assertTrue(over_share(33, 64, 2))
        self.assertTrue(over_share(9, 15, 2))  # one more would make 10/6 of 16
        self.assertTrue(over_share(8, 15, 2))  # 8/7: one more would make 9/7
        self.assertFalse(over_share(7, 15, 2))  # 7/8: one more makes 8/8
        self.assertFalse(over_share(0, 0, 2))
        self.assertFalse(over_share(5, 5, 1))  # one worker: never over its own total
        self.assertTrue(over_share(5, 12, 3))  # mean 4

    def test_a_burst_taken_first_by_one_worker_still_splits_within_one(self):
        for workers, count, split in ((2, 16, [8, 8]), (2, 17, [9, 8]), (2, 64, [32, 32]),
                                      (3, 16, [6, 5, 5])):
            cells = [0] * (3 * workers)
            shares = [ConnectionShare(cells, workers, i) for i in range(workers)]
            self.assertEqual(arrivals(shares, count), split, '%d connections, %d workers' % (count, workers))

    def test_an_even_split_defers_nobody(self):
        shares = pair()[1:]
        for share in shares:
            share.publish(16)
        self.assertEqual([s.should_defer() for s in shares], [False, False])


class Deferral(unittest.TestCase):
    def test_the_crowded_worker_defers_while_its_sibling_accepts(self):
        cells, a, b = pair()
        a.publish(20)
        b.publish(10)
        self.assertTrue(a.should_defer())
        self.assertFalse(b.should_defer())
        b.accepted()  # the sibling took it
        a.back_on_listener()
        self.assertTrue(a.should_defer())  # still over, and the sibling is accepting

    def test_a_sibling_that_takes_nothing_during_a_deferral_is_stalled(self):
        cells, a, b = pair()
        a.publish(20)
        for _ in range(STALL_DEFERRALS):
            self.assertTrue(a.should_defer())
            a.back_on_listener()
        self.assertFalse(a.should_defer())  # waited them out, nobody accepted: take it
        a.accepted()
        self.assertFalse(a.should_defer())  # and no more deferrals while the sibling stays still
        b.publish(0)
        self.assertTrue(a.should_defer())  # its loop turned: back to the shares
        a.back_on_listener()
        b.accepted()
        self.assertTrue(a.should_defer())  # it accepts again

    def test_a_respawned_worker_starts_empty(self):
        cells, a, b = pair()
        b.publish(30)
        ConnectionShare(cells, 2, 1)
        self.assertEqual(cells[3], 0)

    def test_accepted_counts_one_more_held(self):
        cells, a, b = pair()
        a.publish(3)
        a.accepted()
        self.assertEqual((cells[0], cells[1], cells[2]), (4, 1, 1))


class Listener(unittest.TestCase):
    def test_the_listener_leaves_the_selector_and_comes_back(self):
        cells, a, b = pair()
        sock = socket.socket()
        sel = selectors.DefaultSelector()
        try:
            sock.bind(('127.0.0.1', 0))
            sock.listen(4)
            sel.register(sock, selectors.EVENT_READ, (sock, 0))
            turns = ListenerTurns(a, [(sock, 0)])
            self.assertEqual(turns.before_select(sel, 20, 0.25), 0.25)
            self.assertTrue(turns.defer(sel))
            self.assertRaises(KeyError, sel.get_key, sock)
            self.assertLessEqual(turns.before_select(sel, 20, 0.25), DEFER_S)
            time.sleep(DEFER_S)  # the bound itself is what is tested
            self.assertEqual(turns.before_select(sel, 20, 0.25), 0.25)
            self.assertEqual(sel.get_key(sock).data, (sock, 0))
            self.assertTrue(turns.defer(sel))  # nobody accepted meanwhile, not yet long enough
        finally:
            sel.close()
            sock.close()

    def test_the_page_is_shared_across_fork(self):
        counts = SharedCounts(2)
        mine = counts.of(1)
        pid = os.fork()
        if pid == 0:
            counts.of(2).publish(7)
            os._exit(0)
        os.waitpid(pid, 0)
        self.assertEqual(counts.cells[3], 7)
        mine.publish(1)
        self.assertFalse(mine.should_defer())


if __name__ == '__main__':
    unittest.main()
