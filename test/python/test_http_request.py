"""The worker's HTTP request parser beyond the shared table (http-request-heads.json, run by
test_conformance.py): what only the Python side exposes — head_length, bytes after the head,
None while incomplete, and the chunked decoder fed in pieces."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'python'))
from berth_runtime.http_chunked import ChunkedDecoder  # noqa: E402
from berth_runtime.http_request import HeadError, RequestHead, parse_by_rulebook, parse_request_head  # noqa: E402

GET = b'GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n'


class ParseRequestHead(unittest.TestCase):

    def test_head_length_counts_empty_lines_and_leaves_what_follows(self):
        head = parse_request_head(b'\r\n' + GET + b'GET /next HTTP/1.1\r\n', 8192)
        self.assertIsInstance(head, RequestHead)
        self.assertEqual(head.head_length, 2 + len(GET))
        self.assertEqual((head.path, head.query, head.host), ('/a', 'b', 'h'))

    def test_every_prefix_is_incomplete(self):
        for n in range(len(GET)):
            self.assertIsNone(parse_request_head(GET[:n], 8192), GET[:n])

    def test_budget_includes_the_final_empty_line(self):
        self.assertIsInstance(parse_request_head(GET, len(GET)), RequestHead)
        error = parse_request_head(GET, len(GET) - 1)
        self.assertIsInstance(error, HeadError)
        self.assertEqual(error.status, 431)


# Heads the fast path serves, and bytes that take a head off it or push it to another verdict.
PLAIN_HEADS = (
    b'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n',
    b'POST /a/b?c=d&e HTTP/1.1\r\nHost: h.test\r\nContent-Length: 5\r\nConnection: keep-alive\r\n'
    b'Expect: 100-continue\r\nX-A:\t v  w \t\r\n\r\nhello',
    b'HEAD /x HTTP/1.0\r\nConnection: Keep-Alive, x\r\nCookie: a=1\r\ncookie: b=2\r\n\r\n',
    b'GET /caf\xc3\xa9 HTTP/1.1\r\nhost: [::1]:80\r\nUser-Agent: wrk 4.2 (x; y)\r\n\r\n',
)
MUTANT_BYTES = b'\x00\t\n\r :/?[]0159aAzZ,;@%*\x7f\x80\xff'


def head_state(head):
    if not isinstance(head, RequestHead):
        return head if head is None else (head.status, head.reason)
    return tuple(getattr(head, name) for name in RequestHead.__slots__)


class FastPath(unittest.TestCase):
    """parse_request_head's fast path gives the rulebook's verdict: on plain heads and on every
    one-byte substitution, deletion and insertion of them, whole and cut short, under several
    head and body limits."""

    def same(self, data, max_head, max_body):
        self.assertEqual(head_state(parse_request_head(data, max_head, max_body)),
                         head_state(parse_by_rulebook(data, max_head, max_body)), (data, max_head, max_body))

    def test_plain_heads_take_the_fast_path(self):
        for data in PLAIN_HEADS:
            head = parse_request_head(data, 8192)
            self.assertIsInstance(head, RequestHead, data)
            self.assertEqual(head_state(head), head_state(parse_by_rulebook(data, 8192)))

    def test_one_byte_mutations_keep_the_rulebook_verdict(self):
        checked = 0
        for data in PLAIN_HEADS:
            limits = ((8192, 0), (8192, 4), (data.find(b'\r\n\r\n') + 4, 0), (data.find(b'\r\n\r\n') + 3, 0))
            for i in range(len(data)):
                mutants = [data[:i] + data[i + 1:]]
                mutants += [data[:i] + bytes((b,)) + data[i + 1:] for b in MUTANT_BYTES if b != data[i]]
                mutants += [data[:i] + bytes((b,)) + data[i:] for b in MUTANT_BYTES]
                for mutant in mutants:
                    for max_head, max_body in limits:
                        self.same(mutant, max_head, max_body)
                        checked += 1
        self.assertGreater(checked, 30000)

    def test_every_byte_value_at_every_place_of_a_wrk_head(self):
        data = PLAIN_HEADS[0]
        for i in range(len(data)):
            for b in range(256):
                self.same(data[:i] + bytes((b,)) + data[i + 1:], 8192, 0)


class Chunked(unittest.TestCase):

    def test_pieces_across_calls_then_bytes_after_the_body_are_left(self):
        wire = b'5;x=1\r\nhello\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\nNEXT'
        decoder = ChunkedDecoder(0, 100)
        pieces = []
        pos = 0
        for stop in (3, 9, 20, len(wire)):
            pos = decoder.decode(wire[:stop], pos, pieces)
        self.assertTrue(decoder.done)
        self.assertEqual(b''.join(pieces), b'helloabc')
        self.assertEqual(wire[pos:], b'NEXT')

    def test_limits(self):
        decoder = ChunkedDecoder(4, 100)
        decoder.decode(b'5\r\nhello\r\n0\r\n\r\n', 0, [])
        self.assertEqual(decoder.failure[0], 'body-too-large')
        decoder = ChunkedDecoder(0, 5)
        decoder.decode(b'0\r\nLong: trailer\r\n\r\n', 0, [])
        self.assertEqual(decoder.failure[0], 'trailers-too-large')


if __name__ == '__main__':
    unittest.main()
