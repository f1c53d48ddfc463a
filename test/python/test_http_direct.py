"""The direct HTTP path's pieces (http_direct.py, http_handoff.py, http_direct_request.py): what
is served in the worker and what is handed to the master, the hand-over itself (one line and
the descriptor, read back as Node reads it), the zygote draining Node's ACKs, the environ and
the keep-alive head.  Real sockets; no master."""

import array
import json
import os
import selectors
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'python'))

from berth_runtime.http_direct import HttpDirect  # noqa: E402
from berth_runtime.http_direct_request import build_environ, decoded_path, record_block  # noqa: E402
from berth_runtime.http_handoff import MAX_LINE, HandOff, hand_line  # noqa: E402
from berth_runtime.http_kept import HTTP_IDLE_MAX, KeptConnections, idle_limits  # noqa: E402
from berth_runtime.http_head import (  # noqa: E402
    FRAMED_CHUNKED, FRAMED_CLOSE, FRAMED_LENGTH, FRAMED_NONE, HttpDate, http_head, keep_alive_head)
from berth_runtime.http_request import parse_request_head  # noqa: E402
from berth_runtime.zygote import Zygote  # noqa: E402

HCFG = {'listeners': [], 'backlog': 16, 'buffer_size': 4096, 'limit_post': 0, 'timeout_ms': 4000,
        'idle_ms': 100, 'static_prefixes': ['/static'], 'mounts': [], 'log_all': True, 'log_4xx': False,
        'slow_ms': 0}
H = b'Host: site\r\n'


def server(**over):
    cfg = dict(HCFG, **over)
    return HttpDirect([], None, {'SCRIPT_NAME': '', 'wsgi.version': (1, 0)}, lambda m: None, cfg, 1, None,
                      lambda f: None, None)


class IdleLimitTest(unittest.TestCase):
    def test_a_kept_connection_waits_its_listeners_timeout_then_is_closed_as_the_master_would(self):
        """No 2 s hand-over any more: the worker keeps an idle connection as long as the master
        would (http-timeout, socket-timeout), and closes it then; no timeout given: handed over."""
        hcfg = {'listeners': [{'fd': 4, 'index': 0, 'timeout_ms': 1000},
                              {'fd': 5, 'index': 1, 'timeout_ms': 60000},
                              {'fd': 6, 'index': 2, 'timeout_ms': 4000},
                              {'fd': 7, 'index': 3, 'timeout_ms': 0}]}
        self.assertEqual(idle_limits(hcfg), {0: (1.0, True), 1: (60.0, True), 2: (4.0, True), 3: (0.0, False)})


class KeptConnectionsTest(unittest.TestCase):
    """Real connections, a real selector and a real hand-over line on a socketpair."""

    def setUp(self):
        self.master, worker = socket.socketpair()
        self.addCleanup(self.master.close)
        self.addCleanup(worker.close)
        self.master.setblocking(False)
        self.handoff = HandOff(worker.fileno(), lambda m: None)
        self.lst = socket.socket()
        self.addCleanup(self.lst.close)
        self.lst.bind(('127.0.0.1', 0))
        self.lst.listen(HTTP_IDLE_MAX * 2)
        self.sel = selectors.DefaultSelector()
        self.addCleanup(self.sel.close)

    def pair(self):
        client = socket.create_connection(self.lst.getsockname())
        conn, _ = self.lst.accept()
        self.addCleanup(client.close)
        self.addCleanup(conn.close)
        return client, conn

    def handed(self):
        """The reasons and served counts of the lines the master got, descriptors closed."""
        out = []
        while True:
            try:
                data, anc, _, _ = self.master.recvmsg(4096, socket.CMSG_SPACE(4))
            except BlockingIOError:
                return out
            for line in data.decode().splitlines():
                out.append((json.loads(line)['msg']['reason'], json.loads(line)['msg']['served']))
            for _, _, fds in anc:
                os.close(array.array('i', fds)[0])

    def test_past_the_bound_the_least_recently_used_go_to_the_master(self):
        kept = KeptConnections({'listeners': [{'fd': 4, 'index': 0, 'timeout_ms': 60000}]}, self.handoff)
        idle = {}
        conns = []
        for n in range(HTTP_IDLE_MAX + 3):
            _, conn = self.pair()
            conns.append(conn)
            kept.keep(conn, 0, n, None, self.sel, idle, None)
        self.assertEqual(len(idle), HTTP_IDLE_MAX)
        self.assertEqual(kept.evicted, 3)
        self.assertEqual(self.handed(), [('idle', 0), ('idle', 1), ('idle', 2)])
        self.assertEqual([c.fileno() for c in conns[:3]], [-1, -1, -1])
        self.assertEqual(len(self.sel.get_map()), HTTP_IDLE_MAX)  # the handed ones left the selector
        # one served again goes to the end: it is the most recently used, the next to go is #4
        again = idle.pop(conns[3].fileno())
        kept.keep(conns[3], 0, 10, None, self.sel, idle, again)
        kept.keep(self.pair()[1], 0, 0, None, self.sel, idle, None)
        self.assertEqual(self.handed(), [('idle', 4)])
        self.assertGreaterEqual(conns[3].fileno(), 0)

    def test_at_the_deadline_an_idle_one_is_closed_and_one_with_a_request_is_served(self):
        kept = KeptConnections({'listeners': [{'fd': 4, 'index': 0, 'timeout_ms': 1000},
                                              {'fd': 5, 'index': 1, 'timeout_ms': 60000}]}, self.handoff)
        self.assertFalse(kept.uniform)
        idle = {}
        quiet_client, quiet = self.pair()
        _, longer = self.pair()
        asking_client, asking = self.pair()
        kept.keep(longer, 1, 1, None, self.sel, idle, None)  # first in the table, the latest deadline
        kept.keep(quiet, 0, 1, None, self.sel, idle, None)
        kept.keep(asking, 0, 2, None, self.sel, idle, None)
        self.assertEqual(kept.next_deadline(idle), idle[quiet.fileno()].deadline)
        asking_client.sendall(b'GET / HTTP/1.1\r\n\r\n')
        served = []
        for i in idle.values():
            i.deadline = time.monotonic() - 0.001 if i.index == 0 else i.deadline
        kept.expire(self.sel, idle, lambda sock, index, n, ends: served.append((sock, n)))
        self.assertEqual(served, [(asking, 2)])
        self.assertEqual(quiet.fileno(), -1)
        self.assertEqual(quiet_client.recv(10), b'')  # closed, silently, as the master does
        self.assertEqual(list(idle), [longer.fileno()])
        self.assertEqual(self.handed(), [])


    def test_a_due_connection_another_thread_took_while_the_app_ran_is_left_to_it(self):
        kept = KeptConnections({'listeners': [{'fd': 4, 'index': 0, 'timeout_ms': 1000}]}, self.handoff)
        idle = {}
        asking_client, asking = self.pair()
        _, taken = self.pair()
        kept.keep(asking, 0, 1, None, self.sel, idle, None)
        kept.keep(taken, 0, 1, None, self.sel, idle, None)
        asking_client.sendall(b'GET / HTTP/1.1\r\n\r\n')
        for i in idle.values():
            i.deadline = time.monotonic() - 0.001
        served = []

        def serve(sock, index, n, ends):
            # serve() runs the app with the loop's lock released: another thread takes `taken`
            # out of the table to serve its request, as http_direct.py does.
            served.append(sock)
            idle.pop(taken.fileno())

        kept.expire(self.sel, idle, serve)
        self.assertEqual(served, [asking])
        self.assertGreaterEqual(taken.fileno(), 0)  # not closed under the other thread
        self.assertEqual(self.handed(), [])

class JudgeTest(unittest.TestCase):
    def judge(self, data, **over):
        v = server(**over).judge(data)
        return v if isinstance(v, str) else 'serve'

    def test_whole_plain_requests_are_served_here(self):
        self.assertEqual(self.judge(b'GET / HTTP/1.1\r\n' + H + b'\r\n'), 'serve')
        self.assertEqual(self.judge(b'POST /p HTTP/1.1\r\n' + H + b'Content-Length: 3\r\n\r\nabc'), 'serve')
        # a proxy's fields: the worker names the client by forwarded-allow-ips (forwarded.py)
        self.assertEqual(self.judge(b'GET / HTTP/1.1\r\n' + H + b'X-Forwarded-For: 1.2.3.4\r\n\r\n'), 'serve')
        self.assertEqual(self.judge(b'GET / HTTP/1.1\r\n' + H + b'Forwarded: for=1.2.3.4\r\n\r\n'), 'serve')
        # pipelined: the first request is whole, the rest stays unread for the next round
        v = server().judge(b'GET /1 HTTP/1.1\r\n' + H + b'\r\nGET /2 HTT')
        self.assertEqual(v[1], len(b'GET /1 HTTP/1.1\r\n' + H + b'\r\n'))

    def test_everything_else_goes_to_the_master(self):
        cases = {
            b'GET / HTTP/1.1\r\nHo': 'partial',
            b'POST /p HTTP/1.1\r\n' + H + b'Content-Length: 10\r\n\r\nabc': 'body',
            b'POST /p HTTP/1.1\r\n' + H + b'Transfer-Encoding: chunked\r\n\r\n': 'chunked',
            b'POST /p HTTP/1.1\r\n' + H + b'Content-Length: 3\r\nExpect: 100-continue\r\n\r\n': 'expect',
            b'GET /ws HTTP/1.1\r\n' + H + b'Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n': 'header',
            b'GET / HTTP/1.1\r\nBad Header: x\r\n\r\n': 'refused',
            b'GET http://site/ HTTP/1.1\r\n' + H + b'\r\n': 'target-form',
            b'GET /static/app.css HTTP/1.1\r\n' + H + b'\r\n': 'static',
            b'GET /' + b'a' * 5000 + b' HTTP/1.1\r\n' + H + b'\r\n': 'refused',
        }
        for data, reason in cases.items():
            self.assertEqual(self.judge(data), reason, data[:60])
        self.assertEqual(self.judge(b'GET /%00 HTTP/1.1\r\n' + H + b'\r\n', static_prefixes=[]), 'refused')
        self.assertEqual(self.judge(b'POST /p HTTP/1.1\r\n' + H + b'Content-Length: 9\r\n\r\n123456789', limit_post=4),
                         'refused')


class EnvironTest(unittest.TestCase):
    def test_the_environ_is_the_masters(self):
        head = parse_request_head(b'POST /a%20b?x=1 HTTP/1.1\r\nHost: site:8080\r\nCookie: a=1\r\ncookie: b=2\r\n'
                                  b'X_Under: dropped\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n', 4096)
        env = build_environ({'SCRIPT_NAME': ''}, head, decoded_path(head.path), '', ('127.0.0.1', 80),
                            ('127.0.0.2', 5555), 0)
        self.assertEqual(env['PATH_INFO'], '/a b')
        self.assertEqual(env['QUERY_STRING'], 'x=1')
        self.assertEqual(env['REQUEST_URI'], '/a%20b?x=1')
        self.assertEqual(env['HTTP_COOKIE'], 'a=1; b=2')
        self.assertEqual(env['SERVER_NAME'], 'site')
        self.assertEqual(env['SERVER_PORT'], '80')
        self.assertEqual(env['CONTENT_TYPE'], 'text/plain')
        self.assertEqual(env['CONTENT_LENGTH'], '0')  # a POST always has one, as on the master
        self.assertNotIn('HTTP_X_UNDER', env)
        self.assertNotIn('HTTP_CONTENT_LENGTH', env)
        block = record_block(env)
        self.assertIn(b'\x0b\x00REQUEST_URI\x0a\x00/a%20b?x=1', block)


class HeadTest(unittest.TestCase):
    """keep_alive_head plans a response as the master's planResponse does for the same request."""

    def head(self, headers, keep=True, http11=True, head_only=False, status='200 OK'):
        return keep_alive_head(status, headers, lambda: 'D', None, keep, http11, head_only)

    def test_a_known_length_keeps_the_connection(self):
        head, length, framing, keep = self.head([('Content-Length', '2')])
        self.assertEqual(head, b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDate: D\r\n\r\n')
        self.assertEqual((length, framing, keep), (2, FRAMED_LENGTH, True))
        head, _ = http_head('200 OK', [('Content-Length', '2')], lambda: 'D')  # uwsgi-direct: close
        self.assertIn(b'Connection: close', head)

    def test_an_unknown_length_goes_chunked_to_an_http11_client_and_closes_an_http10_one(self):
        head, _, framing, keep = self.head([('Content-Type', 'text/plain')])
        self.assertEqual(head, b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n'
                               b'Date: D\r\n\r\n')
        self.assertEqual((framing, keep), (FRAMED_CHUNKED, True))
        head, _, framing, keep = self.head([], keep=False)  # the client sent Connection: close: still chunked
        self.assertEqual(head, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: D\r\nConnection: close\r\n\r\n')
        head, _, framing, keep = self.head([], http11=False)
        self.assertEqual(head, b'HTTP/1.1 200 OK\r\nDate: D\r\nConnection: close\r\n\r\n')
        self.assertEqual((framing, keep), (FRAMED_CLOSE, False))

    def test_an_http10_keep_alive_client_is_told_so(self):
        head, _, _, keep = self.head([('Content-Length', '0')], http11=False)
        self.assertEqual(head, b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nDate: D\r\nConnection: keep-alive\r\n\r\n')
        self.assertTrue(keep)

    def test_the_apps_connection_close_closes_and_head_and_204_carry_no_framing(self):
        head, _, _, keep = self.head([('Content-Length', '0'), ('Connection', 'Close')])
        self.assertFalse(keep)
        self.assertTrue(head.endswith(b'Connection: close\r\n\r\n'))
        self.assertTrue(self.head([('Content-Length', '0'), ('Connection', 'closed')])[3])
        self.assertEqual(self.head([], head_only=True)[2:], (FRAMED_NONE, True))
        self.assertEqual(self.head([], status='204 No Content')[2:], (FRAMED_NONE, True))


class HandOffTest(unittest.TestCase):
    def test_the_longest_line_is_one_small_write_far_under_the_socket_buffer(self):
        """Concurrent workers share the channel: a line stays whole only as one small sendmsg."""
        master, worker = socket.socketpair()
        self.addCleanup(master.close)
        self.addCleanup(worker.close)
        hand = HandOff(worker.fileno(), lambda m: None)
        hand.pid = 2 ** 22  # pid_max on Linux
        longest = max(('partial', 'oversized', 'refused', 'chunked', 'expect', 'target-form', 'body', 'header',
                       'static', 'idle', 'stop'), key=len)
        for reason in (longest, 'idle'):
            conn = socket.socket()
            self.assertTrue(hand.hand(conn, 2 ** 31 - 1, reason, 2 ** 53))
            data, _, _, _ = master.recvmsg(4096, socket.CMSG_SPACE(4))
            self.assertTrue(data.endswith(b'\n') and data.count(b'\n') == 1)
            self.assertLessEqual(len(data), MAX_LINE)
        self.assertLessEqual(MAX_LINE * 64, worker.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
        logged = []
        refused = HandOff(worker.fileno(), logged.append)
        conn = socket.socket()
        self.assertFalse(refused.hand(conn, 0, 'x' * MAX_LINE, 0))
        self.assertEqual(conn.fileno(), -1)
        self.assertIn('over %d' % MAX_LINE, logged[0])

    def test_one_line_and_the_descriptor_then_closed_here(self):
        master, worker = socket.socketpair()
        lst = socket.socket()
        lst.bind(('127.0.0.1', 0))
        lst.listen(1)
        client = socket.create_connection(lst.getsockname())
        conn, _ = lst.accept()
        client.sendall(b'GET / HTTP/1.1\r\n')
        hand = HandOff(worker.fileno(), lambda m: None)
        self.assertTrue(hand.hand(conn, 2, 'partial', 3))
        self.assertEqual(conn.fileno(), -1)
        data, anc, _, _ = master.recvmsg(1024, socket.CMSG_SPACE(4))
        line = json.loads(data.decode())
        self.assertEqual(line['cmd'], 'NODE_HANDLE')
        self.assertEqual(line['type'], 'net.Native')  # the master builds its one socket from the bare handle
        self.assertEqual(line['msg'], {'berth': 'http-direct', 'listener': 2, 'pid': os.getpid(), 'reason': 'partial', 'served': 3})
        self.assertTrue(data.endswith(b'\n'))
        fds = array.array('i')
        fds.frombytes(anc[0][2])
        got = socket.socket(fileno=fds[0])
        # the bytes the worker only peeked are all there for the master
        self.assertEqual(got.recv(100), b'GET / HTTP/1.1\r\n')
        for s in (got, client, lst, master, worker, hand.sock):
            s.close()

    def test_the_line_carries_the_ends_when_they_can_be_said_plainly(self):
        line = json.loads(hand_line(1, 7, 'static', 2, (('127.0.0.1', 8080), ('127.0.0.2', 40000))).decode())
        self.assertEqual(line['msg'], {'berth': 'http-direct', 'listener': 1, 'pid': 7, 'reason': 'static', 'served': 2,
                                       'ends': ['127.0.0.1', 8080, '127.0.0.2', 40000]})
        v6 = json.loads(hand_line(0, 7, 'idle', 0, (('::1', 80, 0, 0), ('::ffff:10.0.0.1', 5, 0, 0))).decode())
        self.assertEqual(v6['msg']['ends'], ['::1', 80, '::ffff:10.0.0.1', 5])
        # left to the master's socket: a unix socket's, a scoped IPv6 address, none known
        for ends in (('/run/b.sock', ''), (('fe80::1%eth0', 80, 0, 2), ('fe80::2%eth0', 5, 0, 2)), None):
            self.assertNotIn('ends', json.loads(hand_line(0, 7, 'idle', 0, ends).decode())['msg'])
        # a line that would be too long goes without them, never refused for them
        long_host = '1234:5678:9abc:def0:1234:5678:9abc:def0'
        longest = hand_line(2 ** 31 - 1, 2 ** 22, 'target-form', 2 ** 53,
                            ((long_host * 2, 65535, 0, 0), (long_host * 2, 65535, 0, 0)))
        self.assertLessEqual(len(longest), MAX_LINE)
        self.assertNotIn('ends', json.loads(longest.decode())['msg'])

    def test_the_zygote_reads_and_drops_nodes_acks(self):
        """Node answers every handle with an ACK line on the shared channel; unread, they would
        fill the buffer and Node would queue the next handles forever."""
        master, node_end = socket.socketpair()
        ack = b'{"cmd":"NODE_HANDLE_ACK"}\n'
        master.sendall(ack * 1000)
        control_m, control_z = socket.socketpair()
        z = Zygote(control_z, None, lambda m: None, node_end.fileno())
        z.wake_r, z.wake_w = os.pipe()

        def pending():
            try:
                return node_end.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                return b''
        for _ in range(100):
            if not pending():
                break
            z._wait()  # only the ACKs wake it: nothing on the control channel, no signal
        self.assertEqual(pending(), b'')
        self.assertEqual(z.node_fd, node_end.fileno())
        master.close()
        z._wait()
        self.assertIsNone(z.node_fd, 'EOF: the zygote stops watching the channel')
        for fd in (z.wake_r, z.wake_w):
            os.close(fd)
        for s in (node_end, control_m, control_z):
            s.close()


if __name__ == '__main__':
    unittest.main()
