"""The direct path's parsing and head writing, without sockets: the uwsgi vars block as the
master's parser reads it, and the HTTP/1.1 head the worker writes (checked as the master checks
a worker's head).  The serving tests with real socketpairs are in test_direct.py.

Run: python3 -m unittest discover -s test/python -p 'test_*.py'   (from the repository root)"""

import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_direct import NGINX, block  # noqa: E402
import worker_client as wc  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime.http_head import http_head  # noqa: E402
from berth_runtime.responses import ResponseInvalid  # noqa: E402
from berth_runtime.uwsgi_vars import parse_uwsgi_vars, parse_uwsgi_vars_carefully  # noqa: E402


class VarsTest(unittest.TestCase):
    def parse(self, pairs_or_bytes):
        b = pairs_or_bytes if isinstance(pairs_or_bytes, bytes) else block(pairs_or_bytes)
        return parse_uwsgi_vars(b'xxxx' + b, 4, 4 + len(b), {})

    def test_the_vars_nginx_sends(self):
        self.assertEqual(self.parse(NGINX), dict(NGINX))

    def test_a_peer_cannot_set_the_wsgi_keys(self):
        self.assertEqual(self.parse([('wsgi.input', 'x'), ('A', 'b')]), {'A': 'b'})

    def test_what_the_master_must_judge_is_not_parsed_here(self):
        self.assertIsNone(self.parse([('', 'empty key')]))
        self.assertIsNone(self.parse([('A', 'nul\0inside')]))
        self.assertIsNone(self.parse([('CONTENT_LENGTH', '1'), ('CONTENT_LENGTH', '2')]))
        good = block([('KEY', 'value')])
        self.assertIsNone(self.parse(good[:-1]))  # the value runs past the block
        self.assertIsNone(self.parse(good + b'\x01'))  # a stray byte
        self.assertEqual(self.parse([('CONTENT_LENGTH', '3'), ('CONTENT_LENGTH', '3')]), {'CONTENT_LENGTH': '3'})

    def test_a_repeated_key_keeps_the_last_value(self):
        self.assertEqual(self.parse([('A', '1'), ('B', '2'), ('A', '3')]), {'A': '3', 'B': '2'})
        self.assertEqual(self.parse([('A', ''), ('A', '')]), {'A': ''})

    def test_the_fast_loop_agrees_with_the_careful_one(self):
        """parse_uwsgi_vars checks once per block what the careful loop checks per pair: on
        blocks built to break it (repeats, NULs, empty keys, wsgi. keys, cut or padded ends,
        flipped bytes) both must give the same answer."""
        rng = random.Random(3)
        keys = ['A', 'B', 'PATH_INFO', 'CONTENT_LENGTH', 'wsgi.input', 'X_wsgi.y', '', 'N\0UL', 'K' * 300]
        values = ['', '1', '2', 'v', 'nul\0', '\xe9t\xe9', 'x' * 65535, 'y' * 256]
        tried = 0
        for _ in range(3000):
            pairs = [(rng.choice(keys), rng.choice(values)) for _ in range(rng.randint(0, 6))]
            data = block(pairs)
            mutation = rng.randint(0, 3)
            if mutation == 1 and data:
                data = data[:rng.randrange(len(data))]
            elif mutation == 2:
                data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 5)))
            elif mutation == 3 and data:
                at = rng.randrange(len(data))
                data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]
            framed = b'head' + data
            expected = parse_uwsgi_vars_carefully(data, data.decode('latin-1'), {'base': 1})
            self.assertEqual(parse_uwsgi_vars(framed, 4, len(framed), {'base': 1}), expected, repr(pairs))
            tried += expected is not None
        self.assertGreater(tried, 300, 'the generator must give many acceptable blocks too')


class HeadTest(unittest.TestCase):
    date = staticmethod(lambda: 'Sun, 22 Nov 2026 00:00:00 GMT')

    def test_statuses_past_599_are_refused(self):
        with self.assertRaises(ResponseInvalid):
            http_head('600 Nope', [], self.date)

    def test_hop_by_hop_headers_go_date_and_close_come(self):
        head, length = http_head('200 OK', [('Content-Length', '3'), ('Connection', 'keep-alive'),
                                               ('Transfer-Encoding', 'chunked'), ('X-A', 'b')], self.date)
        self.assertEqual(head, b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n'
                               b'Date: Sun, 22 Nov 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n')
        self.assertEqual(length, 3)

    def test_what_the_master_refuses_is_refused(self):
        for status, headers in [('200 OK', [('X', 'a\r\nX-Injected: 1')]), ('200 OK', [('Bad Name', 'v')]),
                                ('200 OK', [('Content-Length', '1'), ('Content-Length', '2')]),
                                ('200 OK', [('Content-Length', '-1')]), ('100 Continue', []),
                                ('200 OK', [('X', '\u0100')])]:
            with self.assertRaises(ResponseInvalid, msg=repr((status, headers))):
                http_head(status, headers, self.date)

    def test_what_the_quick_scan_doubts_is_judged_exactly(self):
        # A tab and latin-1 letters or C1 characters are not printable to str.isprintable() but
        # are allowed in a value; a control character in a dropped hop-by-hop value is not.
        head, _ = http_head('200 OK', [('X-A', 'a\tb'), ('X-B', '\xe9\x85')], self.date)
        self.assertIn(b'X-A: a\tb\r\nX-B: \xe9\x85\r\n', head)
        for headers in [[('Connection', 'close\r\nX-Injected: 1')], [('X-A', 'a\x7f')], [('X-A', 'a\x00')]]:
            with self.assertRaises(ResponseInvalid, msg=repr(headers)):
                http_head('200 OK', headers, self.date)
        with self.assertRaises(ResponseInvalid):
            http_head('200 O\nK', [], self.date)

    def test_content_length_is_ascii_digits(self):
        # Whitespace around the digits too, as the master refuses it (response-heads.json).
        for value in ['\u0661', '\xb2', '+1', '1 2', '12345678901234567', '', ' 7\t', '7 ']:
            with self.assertRaises(ResponseInvalid, msg=repr(value)):
                http_head('200 OK', [('Content-Length', value)], self.date)
        self.assertEqual(http_head('200 OK', [('Content-Length', '7')], self.date)[1], 7)

    def test_204_carries_no_content_length(self):
        head, _ = http_head('204 No Content', [('Content-Length', '0')], self.date)
        self.assertNotIn(b'Content-Length', head)


if __name__ == '__main__':
    unittest.main()
