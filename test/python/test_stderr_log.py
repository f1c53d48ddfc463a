"""The worker's log lines cannot be forged by a peer: the messages it writes quote methods and
REQUEST_URIs as the peer sent them, so its logger escapes control characters and marks every
line after a message's first (issue 11, item 4).

Run: python3 -m unittest discover -s test/python -p 'test_*.py'   (from the repository root)"""

import io
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'python'))

from berth_runtime.stderr_log import CONTINUED, log_safe, make_logger, neutralise  # noqa: E402

FORGED = '[pid: 1|worker: 1|req: 1/1] 6.6.6.6 () {1 vars in 1 bytes} [x] GET /admin'


class LoggerTests(unittest.TestCase):
    def test_a_uri_with_crlf_stays_on_its_line(self):
        out = io.StringIO()
        make_logger(out)('GET /x\r\n%s: the app sent more body bytes' % FORGED)
        lines = out.getvalue().splitlines()
        self.assertEqual(lines[0], 'berth worker %d: GET /x\\x0d' % os.getpid())
        self.assertEqual(lines[1], CONTINUED + FORGED + ': the app sent more body bytes')

    def test_controls_and_line_separators_are_escaped(self):
        self.assertEqual(neutralise('a\x1b[2J\x85\u2028\x7fb\n'), 'a\\x1b[2J\\u0085\\u2028\\x7fb')
        self.assertEqual(log_safe('/x\r\ny'), '/x\\x0d\\x0ay')
        self.assertEqual(log_safe('/plain?q=1'), '/plain?q=1')

    def test_a_traceback_keeps_its_lines_marked_as_continuations(self):
        self.assertEqual(neutralise('failed:\nTraceback\n  File "a.py"'),
                         'failed:\n' + CONTINUED + 'Traceback\n' + CONTINUED + '  File "a.py"')


if __name__ == '__main__':
    unittest.main()
