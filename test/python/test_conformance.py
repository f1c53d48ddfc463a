"""The conformance tables under test/fixtures/conformance/ run against the Python runtime: each
rule implemented in both languages has one table, run here and by the node:test suite.

Run: python3 -m unittest discover -s test/python -p 'test_*.py'   (from the repository root)"""

import json
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLES = os.path.join(ROOT, 'test', 'fixtures', 'conformance')

# The runtime's functions under test, in one block (they move into berth_runtime.* modules).
sys.path.insert(0, os.path.join(ROOT, 'python'))
from berth_worker import (  # noqa: E402
    parse_uwsgi_vars, packet_content_length,
)


def load_table(name):
    with open(os.path.join(TABLES, name), encoding='utf-8') as f:
        table = json.load(f)
    names = [c['name'] for c in table['cases']]
    assert len(names) == len(set(names)), '%s: repeated case names' % name
    assert all(c.get('why') for c in table['cases']), '%s: a case without a why' % name
    return table


class UwsgiVars(unittest.TestCase):
    """uwsgi-vars.json: the direct path's vars parser (parse_uwsgi_vars, with its careful loop
    for repeated keys) and the CONTENT_LENGTH it accepts; a refused block is relayed."""

    def outcome(self, block):
        # Laid over a non-empty base, as serve_connection does, inside a longer buffer.
        data = b'\x00\x00\x00\x00' + block + b'body'
        base = {'SERVER_SOFTWARE': 'base'}
        out = parse_uwsgi_vars(data, 4, 4 + len(block), dict(base))
        if out is None:
            return 'rejected'
        length = packet_content_length(out)
        if length is None:
            return 'rejected'
        self.assertEqual(out.pop('SERVER_SOFTWARE'), 'base')
        return {'vars': out, 'content_length': length}

    def test_table(self):
        for case in load_table('uwsgi-vars.json')['cases']:
            with self.subTest(case['name'], why=case['why']):
                expect = case['expect']
                want = 'rejected' if 'rejected' in expect else expect
                self.assertEqual(self.outcome(bytes.fromhex(case['hex'])), want)


if __name__ == '__main__':
    unittest.main()
