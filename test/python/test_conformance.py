"""The conformance tables under test/fixtures/conformance/ run against the Python runtime: each
rule implemented in both languages has one table, run here and by the node:test suite.

Run: python3 -m unittest discover -s test/python -p 'test_*.py'   (from the repository root)"""

import json
import os
import re
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLES = os.path.join(ROOT, 'test', 'fixtures', 'conformance')

# The runtime's functions under test, in one block.
sys.path.insert(0, os.path.join(ROOT, 'python'))
from berth_runtime.config import read_config, BootFailure, CONFIG_KEYS, DIRECT_KEYS, HTTP_DIRECT_KEYS, WORKER_MODES  # noqa: E402
from berth_runtime.django_static import django_mountpoints  # noqa: E402
from berth_runtime.forwarded import PeerTrust, forwarded_client, parse_allow  # noqa: E402
from berth_runtime.framed_server import Request  # noqa: E402
from berth_runtime.http_head import http_head  # noqa: E402
from berth_runtime.responses import encode_head, ResponseInvalid  # noqa: E402
from berth_runtime.script_name import mount_prefixes, split_script_name  # noqa: E402
from berth_runtime.static_relay import for_static_stage, static_prefixes_of  # noqa: E402
from berth_runtime.stderr_log import log_safe  # noqa: E402
from berth_runtime.uwsgi_vars import is_loopback, parse_uwsgi_vars, packet_content_length  # noqa: E402
from http_verdict import verdict as http_verdict  # noqa: E402


def load_table(name):
    with open(os.path.join(TABLES, name), encoding='utf-8') as f:
        table = json.load(f)
    names = [c['name'] for c in table['cases']]
    assert names, '%s: no cases' % name
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



class ResponseHeads(unittest.TestCase):
    """response-heads.json: the direct path (start_response's checks, then http_head) accepts and
    writes what the master does; the framed path's encode_head refuses only rejected heads."""

    def direct(self, status, headers, date):
        req = Request(0, {}, None, None)
        try:
            req.start_response(status, headers)
        except (TypeError, ValueError):
            return 'rejected'
        try:
            head, length = http_head(status, headers, lambda: date)
        except ResponseInvalid:
            return 'rejected'
        lines = head.decode('latin-1').split('\r\n')
        self.assertEqual(lines[0], 'HTTP/1.1 ' + status)
        self.assertEqual(lines[-2:], ['', ''])
        added = ('Date: ' + date, 'Connection: close')
        kept = [line.split(': ', 1) for line in lines[1:-2] if line not in added]
        code = int(status[:3])
        # DirectRequest.head: no body for 204/304; without a length the connection's close ends it.
        body = 'none' if code in (204, 304) else 'unframed' if length is None else 'length:%d' % length
        return {'headers': kept, 'body': body}

    def test_table(self):
        table = load_table('response-heads.json')
        for case in table['cases']:
            with self.subTest(case['name'], why=case['why']):
                headers = [tuple(h) for h in case['headers']]
                self.assertEqual(self.direct(case['status'], headers, table['date']), case['expect'])
                try:
                    block = encode_head(case['status'], headers)
                except ResponseInvalid:
                    self.assertEqual(case['expect'], 'rejected', 'the framed path refuses a head the table accepts')
                    continue
                self.assertEqual(block.decode('latin-1').split('\0'), [case['status']] + [x for h in headers for x in h])


class StaticRelay(unittest.TestCase):
    """static-relay.json: the direct path relays every request the master's static stage claims
    (for_static_stage over the prefixes DirectServer keeps), and finds at least the mountpoints
    the master maps from Django's STATIC_URL/MEDIA_URL."""

    def test_table(self):
        for case in load_table('static-relay.json')['cases']:
            with self.subTest(case['name'], why=case['why']):
                self.assertTrue(case['relay'] or case['static'] is not True,
                                'the table breaks its invariant: static without relay')
                vars_ = {}
                if case['method'] is not None:
                    vars_['REQUEST_METHOD'] = case['method']
                if case['uri'] is not None:
                    vars_['REQUEST_URI'] = case['uri']
                prefixes = static_prefixes_of(case['mountpoints'])
                # DirectServer asks only when some mountpoint is mapped (prefixes not None).
                relay = prefixes is not None and for_static_stage(prefixes, vars_)
                self.assertIs(relay, case['relay'])

    def test_django(self):
        for case in load_table('static-relay.json')['django']:
            with self.subTest(case['url'], why=case['why']):
                found = django_mountpoints({'static_url': case['url'], 'media_url': None})
                if case['mountpoint'] is not None:
                    self.assertIn(case['mountpoint'], found)


class WorkerConfig(unittest.TestCase):
    """worker-config.json: read_config accepts the valid configs and refuses every invalid one,
    naming its key; its rules are the table's."""

    def setUp(self):
        with open(os.path.join(TABLES, 'worker-config.json'), encoding='utf-8') as f:
            self.table = json.load(f)

    def test_rules_are_the_tables(self):
        self.assertEqual({k: r[0] for k, r in CONFIG_KEYS.items()},
                         {k: s['rule'] for k, s in self.table['keys'].items()})
        self.assertEqual({k: r[0] for k, r in DIRECT_KEYS.items()},
                         {k: s['rule'] for k, s in self.table['direct_keys'].items()})
        self.assertEqual({k: r[0] for k, r in HTTP_DIRECT_KEYS.items()},
                         {k: s['rule'] for k, s in self.table['http_direct_keys'].items()})
        self.assertEqual(list(WORKER_MODES), self.table['keys']['mode']['values'])

    def test_valid(self):
        for case in self.table['valid']:
            with self.subTest(case['name'], why=case['why']):
                self.assertEqual(read_config(json.dumps(case['config'])), case['config'])

    def test_invalid(self):
        for case in self.table['invalid']:
            with self.subTest(case['name'], why=case['why']):
                with self.assertRaises(BootFailure) as caught:
                    read_config(json.dumps(case['config']))
                self.assertEqual(caught.exception.kind, 'config')
                self.assertRegex(caught.exception.message, r'(: |; |[ .])%s\b' % re.escape(case['key']))


class UwsgiTrustTable(unittest.TestCase):
    """uwsgi-trust.json: a uwsgi-direct worker serves itself exactly the socket-port peers the
    table says ('direct': 'serve'), as direct_server.serve_connection decides: a unix peer, or
    a TCP peer is_loopback names; everyone else is relayed to the master."""

    def test_table(self):
        cases = [c for c in load_table('uwsgi-trust.json')['cases'] if 'direct' in c]
        self.assertTrue(cases, 'no case of the table says what a direct worker does')
        for case in cases:
            with self.subTest(case['name']):
                unix = case['peer'] == ''
                serves = unix or is_loopback(case['peer'])
                self.assertEqual('serve' if serves else 'relay', case['direct'], case['why'])


class ScriptNameTable(unittest.TestCase):
    """script-name.json: the workers' direct paths split SCRIPT_NAME / PATH_INFO below the
    mountpoints exactly as the master's script-name.ts does."""

    def test_table(self):
        for case in load_table('script-name.json')['cases']:
            with self.subTest(case['name']):
                got = split_script_name(case['path'], mount_prefixes(case['mounts']))
                self.assertEqual(list(got), case['expect'], case['why'])


class ForwardedTable(unittest.TestCase):
    """forwarded.json: the direct HTTP path names the client from a trusted peer's Forwarded /
    X-Forwarded-* fields exactly as the master's forwarded.ts does."""

    def test_table(self):
        for case in load_table('forwarded.json')['cases']:
            with self.subTest(case['name']):
                items = [s.strip() for s in case['allow'].split(',') if s.strip()]
                trust = PeerTrust(parse_allow(items)) if items else None
                headers = [(n.lower().encode('latin-1'), v.encode('latin-1')) for n, v in case['headers']]
                client = forwarded_client(headers, trust.trust) if trust and trust.trusted(case['peer']) else None
                expect = case['expect']
                self.assertEqual(client, None if expect is None else (expect['remote_addr'], expect['remote_port'], expect['scheme']), case['why'])

    def test_environ(self):
        """PeerTrust.apply sets the three variables the master sets, and only from a trusted peer
        whose request carries the fields (as build_environ put them in the environ)."""
        fwd = {'HTTP_X_FORWARDED_FOR': '192.0.2.5:81', 'HTTP_X_FORWARDED_PROTO': 'https'}
        env = dict(fwd, REMOTE_ADDR='127.0.0.1', REMOTE_PORT='5000')
        env['wsgi.url_scheme'] = 'http'
        PeerTrust(parse_allow(['127.0.0.2'])).apply(env)
        self.assertEqual(env, dict(fwd, REMOTE_ADDR='127.0.0.1', REMOTE_PORT='5000', **{'wsgi.url_scheme': 'http'}))
        PeerTrust(parse_allow(['127.0.0.1'])).apply(env)
        self.assertEqual(env, dict(fwd, REMOTE_ADDR='192.0.2.5', REMOTE_PORT='81', **{'wsgi.url_scheme': 'https'}))
        plain = {'REMOTE_ADDR': '127.0.0.1', 'REMOTE_PORT': '5000', 'wsgi.url_scheme': 'http', 'HTTP_HOST': 'h'}
        PeerTrust(parse_allow(['*'])).apply(plain)
        self.assertEqual(plain, {'REMOTE_ADDR': '127.0.0.1', 'REMOTE_PORT': '5000', 'wsgi.url_scheme': 'http', 'HTTP_HOST': 'h'})

    def test_caches_of_client_sent_values_stay_small(self):
        """The remembered clients and addresses are keyed on what clients send: bounded in
        count, and a long field is not remembered at all."""
        from berth_runtime import forwarded
        trust = PeerTrust(parse_allow(['127.0.0.1']))
        for i in range(3000):
            env = {'REMOTE_ADDR': '127.0.0.1', 'REMOTE_PORT': '1', 'wsgi.url_scheme': 'http',
                   'HTTP_X_FORWARDED_FOR': '10.0.%d.%d' % (i // 256, i % 256)}
            trust.apply(env)
            self.assertEqual(env['REMOTE_ADDR'], '10.0.%d.%d' % (i // 256, i % 256))
        self.assertLessEqual(len(trust.clients), forwarded._PEER_CACHE_MAX)
        self.assertLessEqual(len(forwarded._parsed), forwarded._PEER_CACHE_MAX)
        long_hop = 'x' * 4000
        env = {'REMOTE_ADDR': '127.0.0.1', 'REMOTE_PORT': '1', 'HTTP_X_FORWARDED_FOR': long_hop}
        trust.apply(env)
        self.assertEqual(env['REMOTE_ADDR'], '127.0.0.1')
        self.assertNotIn((None, long_hop, None), trust.clients)
        self.assertNotIn(long_hop, forwarded._parsed)


class LogEscapes(unittest.TestCase):
    """log-escapes.json: the characters of a peer's text a worker's warning escapes (log_safe),
    the same set as the master's peer-text.ts."""

    def test_table(self):
        for case in load_table('log-escapes.json')['cases']:
            with self.subTest(case['name']):
                self.assertEqual(log_safe(case['text']), case['escaped'], case['why'])


class HttpRequestHeads(unittest.TestCase):
    """http-request-heads.json: the worker's HTTP parser (http_request.py, http_chunked.py) gives
    the master codec's verdicts, fed whole and one byte at a time, and the direct path's environ
    builder (http_direct_request.build_environ) the table's environ.  The master path's environ
    (the TypeScript vars through environ.build_environ) is checked by
    test/protocol/http1/request-heads-conformance.test.ts."""

    def test_table(self):
        table = load_table('http-request-heads.json')
        for case in table['cases']:
            with self.subTest(case['name'], why=case['why']):
                data = case['request'].encode('latin-1')
                limits = (case.get('max_head', 8192), case.get('max_body', 0))
                facts = {'connection': case.get('connection', table['connection']), 'mounts': case.get('mounts', [])}
                self.assertEqual(http_verdict(data, *limits, facts=facts), case['expect'], 'whole')
                self.assertEqual(http_verdict(data, *limits, by_byte=True, facts=facts), case['expect'], 'byte by byte')

    def test_every_parsed_case_states_its_environ(self):
        parsed = [c for c in load_table('http-request-heads.json')['cases'] if 'method' in c['expect']]
        self.assertTrue(parsed)
        self.assertEqual([c['name'] for c in parsed if 'environ' not in c['expect']], [])


if __name__ == '__main__':
    unittest.main()
