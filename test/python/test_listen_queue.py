"""listen_queue.py: sock_diag reads a listening unix socket's queue and backlog, and a full
queue is logged once (naming the socket, listen and the fix), not again within WARN_EVERY_S."""

import os
import shutil
import socket
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'python'))
from berth_runtime.listen_queue import NETLINK_SOCK_DIAG, ListenQueueWatch, unix_listen_queue  # noqa: E402


class ListenQueueTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, 'app.sock')
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(self.path)
        self.server.listen(2)
        self.diag = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.server.close()
        self.diag.close()
        shutil.rmtree(self.dir)

    def connect(self, n):
        """Connects n clients without blocking; how many the kernel refused (EAGAIN)."""
        refused = 0
        for _ in range(n):
            c = socket.socket(socket.AF_UNIX)
            c.setblocking(False)
            self.clients.append(c)
            try:
                c.connect(self.path)
            except BlockingIOError:
                refused += 1
        return refused

    def test_queue_and_backlog_as_the_kernel_counts_them(self):
        inode = os.fstat(self.server.fileno()).st_ino
        self.assertEqual(unix_listen_queue(self.diag, inode), (0, 2))
        self.assertEqual(self.connect(5), 2, 'a unix socket takes backlog + 1, then refuses')
        self.assertEqual(unix_listen_queue(self.diag, inode), (3, 2))
        self.server.accept()[0].close()
        self.assertEqual(unix_listen_queue(self.diag, inode), (2, 2))

    def test_an_inode_of_no_socket_is_none(self):
        self.assertIsNone(unix_listen_queue(self.diag, os.stat(self.dir).st_ino))

    def test_a_full_queue_is_said_once_with_the_fix(self):
        lines = []
        watch = ListenQueueWatch([(self.server, True, 0)], lines.append)
        watch.check(self.diag)
        self.assertEqual(lines, [], 'an empty queue says nothing')
        self.connect(3)
        watch.check(self.diag)
        watch.check(self.diag)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('uwsgi socket %s is full (3 waiting, listen = 2)' % self.path, lines[0])
        self.assertIn('(11: Resource temporarily unavailable)', lines[0])
        self.assertIn('raise listen', lines[0])
        self.assertIn('net.core.somaxconn', lines[0])

    def test_tcp_listeners_are_not_watched(self):
        tcp = socket.socket()
        self.addCleanup(tcp.close)
        tcp.bind(('127.0.0.1', 0))
        tcp.listen(1)
        self.assertEqual(ListenQueueWatch([(tcp, False, 0)], print).watched, [])


if __name__ == '__main__':
    unittest.main()
