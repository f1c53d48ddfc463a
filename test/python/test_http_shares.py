"""http_shares.py: a worker well over its share of connections pauses accepting, briefly, and never starves the listener."""
import os
import selectors
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'python'))

from berth_runtime.http_shares import MARGIN, PAUSE_S, AcceptPacer, ConnectionShares  # noqa: E402


class SharesTest(unittest.TestCase):
    def test_over_share_only_past_the_margin_above_the_least_loaded_sibling(self):
        shares = ConnectionShares()
        shares.take_slot(0)
        self.assertFalse(shares.over_share(50), 'no sibling published: nothing to leave to')
        shares.counts[1] = 4 + 1  # a sibling holding 4
        self.assertFalse(shares.over_share(4 + MARGIN))
        self.assertTrue(shares.over_share(4 + MARGIN + 1))
        shares.release(1)  # the zygote reaped it
        self.assertFalse(shares.over_share(4 + MARGIN + 1))

    def test_a_forked_child_sees_its_siblings_counts(self):
        shares = ConnectionShares()
        shares.take_slot(0)
        pid = os.fork()
        if pid == 0:
            shares.take_slot(1)
            shares.publish(7)
            os._exit(0)
        os.waitpid(pid, 0)
        self.assertEqual(shares.counts[1], 8)


class PacerTest(unittest.TestCase):
    def setUp(self):
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, (self.listener, 0))
        self.shares = ConnectionShares()
        self.shares.take_slot(0)
        self.shares.counts[1] = 1  # a sibling holding none
        self.pacer = AcceptPacer(self.shares, [(self.listener, 0)])

    def tearDown(self):
        self.sel.close()
        self.listener.close()

    def registered(self):
        return self.listener in [k.fileobj for k in self.sel.get_map().values()]

    def test_pauses_then_accepts_at_least_once_after_the_pause(self):
        held = MARGIN + 1
        self.assertFalse(self.pacer.may_accept(self.sel, held, 100.0))
        self.assertFalse(self.registered(), 'listener out of the selector while paused')
        self.assertAlmostEqual(self.pacer.turn(self.sel, held, 100.0, 1.0), PAUSE_S)
        self.pacer.turn(self.sel, held, 100.0 + PAUSE_S, 1.0)
        self.assertTrue(self.registered())
        self.assertTrue(self.pacer.may_accept(self.sel, held, 100.0 + PAUSE_S), 'one accept after a pause')
        self.assertFalse(self.pacer.may_accept(self.sel, held, 100.0 + PAUSE_S))

    def test_within_its_share_it_accepts_and_publishes(self):
        self.assertTrue(self.pacer.may_accept(self.sel, MARGIN, 1.0))
        self.assertEqual(self.pacer.turn(self.sel, 3, 1.0, 0.25), 0.25)
        self.assertEqual(self.shares.counts[0], 4)


if __name__ == '__main__':
    unittest.main()
