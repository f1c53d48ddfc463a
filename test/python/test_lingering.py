"""lingering.py: after its answer, a connection whose peer sent more than its request ends with
a FIN (shutdown) and is drained on the event loop, not closed with the bytes unread (a reset)."""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'python'))
from berth_runtime.direct_io import RawConn  # noqa: E402
from berth_runtime.event_loop import EventLoop  # noqa: E402
from berth_runtime.lingering import Lingering, has_unread  # noqa: E402


def until(done, what, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting until ' + what)
        time.sleep(0.005)


class LingeringTest(unittest.TestCase):
    def setUp(self):
        self.logged = []
        self.loop = EventLoop(0.05, 'test-lingering-loop', self.logged.append)
        self.loop.start()

    def watched(self, lingering):
        """The fds the loop took into a lingering close (begin() runs later, on the loop)."""
        begun = []
        begin = lingering.begin
        lingering.begin = lambda fd: (begun.append(fd), begin(fd))
        return begun

    def pair(self):
        a, b = socket.socketpair()
        a.setblocking(False)
        self.addCleanup(b.close)
        return RawConn(a.detach()), b

    def test_nothing_unread_closes_at_once(self):
        lingering = Lingering(self.loop, 1.0)
        conn, peer = self.pair()
        self.assertFalse(has_unread(conn.fd))
        lingering.close(conn)
        self.assertEqual(conn.fd, -1)
        self.assertEqual(peer.recv(16), b'', 'closed: the peer reads the end at once')
        self.assertEqual(lingering.held, {})

    def test_unread_bytes_mean_a_fin_then_a_drain_until_the_peer_closes(self):
        lingering = Lingering(self.loop, 1.0)
        begun = self.watched(lingering)
        conn, peer = self.pair()
        peer.sendall(b'24 stray bytes after it!')
        until(lambda: has_unread(conn.fd), 'the stray bytes are in')
        fd = conn.fd
        lingering.close(conn)
        self.assertEqual(conn.fd, -1, 'the connection is the lingering close\'s now')
        self.assertEqual(peer.recv(16), b'', 'the answer ended with a FIN (shutdown), not a reset')
        peer.sendall(b'more')  # still read and dropped: our side is only half-closed
        until(lambda: begun == [fd], 'the loop holds it')
        peer.close()
        until(lambda: fd not in lingering.held, 'closed once the peer closed')
        self.assertEqual(self.logged, [])

    def test_a_peer_that_never_closes_is_closed_after_the_budget(self):
        lingering = Lingering(self.loop, 0.1)
        begun = self.watched(lingering)
        conn, peer = self.pair()
        peer.sendall(b'x')
        until(lambda: has_unread(conn.fd), 'the byte is in')
        fd = conn.fd
        lingering.close(conn)
        until(lambda: begun == [fd] and fd not in lingering.held, 'held, then closed at the budget')
        self.assertEqual(peer.recv(16), b'')


if __name__ == '__main__':
    unittest.main()
