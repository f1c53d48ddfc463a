"""The worker's HTTP request parser beyond the shared table (http-request-heads.json, run by
test_conformance.py): what only the Python side exposes — head_length, bytes after the head,
None while incomplete, and the chunked decoder fed in pieces."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'python'))
from berth_runtime.http_chunked import ChunkedDecoder  # noqa: E402
from berth_runtime.http_request import HeadError, RequestHead, parse_request_head  # noqa: E402

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
