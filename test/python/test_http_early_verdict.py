"""http_early_verdict.static_claim against the direct path's full judge: one verdict for every head."""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'python'))
sys.path.insert(0, HERE)
import berth_runtime.http_direct as http_direct  # noqa: E402
from berth_runtime.http_early_verdict import static_claim  # noqa: E402
from berth_runtime.static_relay import static_prefixes_of  # noqa: E402
from test_http_request import MUTANT_BYTES, PLAIN_HEADS  # noqa: E402

CONFORMANCE = os.path.join(os.path.dirname(HERE), 'fixtures', 'conformance', 'http-request-heads.json')
PREFIX_SETS = (('/',), ('/static/',), ('/x', '/a/'), ('/caf\xc3\xa9',))
STATIC_HEADS = (
    b'GET /static/f10k HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n',
    b'HEAD /static/a.css HTTP/1.0\r\n\r\n',
    b'GET /static/a HTTP/1.1\r\nhost:   h.test \t\r\nUser-Agent: x host: y\r\nX-Host: z\r\n\r\n',
    b'GET /static/a HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n',
    b'GET /static/a HTTP/1.1\r\nHost: [::1]:80\r\n\r\n',
    b'GET /static/a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n',
    b'GET /static/a HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n',
    b'GET /static/a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
    b'GET /static/a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    b'\r\nGET /static/a HTTP/1.1\r\nHost: a\r\n\r\n',
    b'GET /static/a HTTP/1.1\r\nHost: a\r\n',
    b'GET /static/%41 HTTP/1.1\r\nHost: a\r\n\r\n',
    b'GET http://a/static/a HTTP/1.1\r\nHost: a\r\n\r\n',
    b'GET /static/a HTTP/1.2\r\nHost: a\r\n\r\n',
    b'GET /static/a HTTP/1.1\r\nHost: a b\r\n\r\n',
)


def judge_of(prefixes, max_head, max_body):
    judge = http_direct.HttpDirect.__new__(http_direct.HttpDirect)
    judge.max_head = max_head
    judge.limit_post = max_body
    judge.mounts = []
    judge.static_prefixes = static_prefixes_of(prefixes)
    return judge


class StaticClaim(unittest.TestCase):

    def verdicts(self, data, prefixes, max_head=8192, max_body=0):
        """(the judge's verdict with the early claim, without it)."""
        judge = judge_of(prefixes, max_head, max_body)
        with_claim = judge.judge(data)
        real = http_direct.static_claim
        http_direct.static_claim = lambda *args: None
        try:
            without = judge.judge(data)
        finally:
            http_direct.static_claim = real
        return with_claim, without

    def same(self, data, prefixes, max_head=8192, max_body=0):
        with_claim, without = self.verdicts(data, prefixes, max_head, max_body)
        shown = lambda v: v if type(v) is str else 'serve'  # noqa: E731
        self.assertEqual(shown(with_claim), shown(without), (data, prefixes, max_head))

    def test_the_conformance_heads_keep_their_verdicts(self):
        with open(CONFORMANCE) as f:
            cases = json.load(f)['cases']
        for case in cases:
            data = case['request'].encode('latin-1')
            for prefixes in PREFIX_SETS:
                self.same(data, prefixes, case.get('max_head', 8192), case.get('max_body', 0))

    def test_heads_the_claim_must_leave_to_the_judge(self):
        for data in STATIC_HEADS:
            for prefixes in PREFIX_SETS:
                for max_head in (8192, data.find(b'\r\n\r\n') + 3):
                    self.same(data, prefixes, max_head)

    def test_one_byte_mutations_keep_the_verdict(self):
        checked = 0
        for data in STATIC_HEADS[:3] + PLAIN_HEADS:
            for i in range(len(data)):
                mutants = [data[:i] + data[i + 1:]]
                mutants += [data[:i] + bytes((b,)) + data[i + 1:] for b in MUTANT_BYTES if b != data[i]]
                mutants += [data[:i] + bytes((b,)) + data[i:] for b in MUTANT_BYTES]
                for mutant in mutants:
                    for prefixes in (('/',), ('/static/',)):
                        self.same(mutant, prefixes)
                        checked += 1
        self.assertGreater(checked, 20000)

    def test_a_plain_static_request_is_claimed_before_the_parse(self):
        self.assertIs(static_claim(STATIC_HEADS[0], 8192, static_prefixes_of(['/static/'])), True)
        self.assertIs(static_claim(STATIC_HEADS[1], 8192, static_prefixes_of(['/static/'])), True)
        self.assertIs(static_claim(STATIC_HEADS[2], 8192, static_prefixes_of(['/static/'])), True)
        # not the static stage's: the judge skips its own static test
        self.assertIs(static_claim(b'GET /app HTTP/1.1\r\nHost: a\r\n\r\n', 8192, static_prefixes_of(['/static/'])), False)
        self.assertIs(static_claim(b'POST /static/a HTTP/1.1\r\nHost: a\r\n\r\n', 8192, static_prefixes_of(['/static/'])), False)
        # two Hosts: the judge refuses it
        self.assertIsNone(static_claim(STATIC_HEADS[3], 8192, static_prefixes_of(['/static/'])))


if __name__ == '__main__':
    unittest.main()
