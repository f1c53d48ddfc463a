"""The Python parser's verdict on the first request in some bytes, in the shape of
bench/lib/http-diff/verdict.ts: used by test_conformance.py (the rulebook table) and, as a
JSON-lines filter on stdin/stdout, by the differential fuzz (test/fuzz/http-parser-diff.test.ts,
bench/http-parser-diff.ts).  Each input line: {"hex", "max_head", "max_body"}; each output line:
{"whole": verdict, "by_byte": verdict}.  Given the connection and mountpoints (an input line's
"connection" and "mounts"), a parsed verdict also carries the environ the direct path builds
(http_direct_request.build_environ), or {"status": 400} when it cannot be built."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'python'))
from berth_runtime.http_chunked import ChunkedDecoder, STATUS_OF  # noqa: E402
from berth_runtime.http_request import HeadError, parse_request_head  # noqa: E402
from berth_runtime.http_direct_request import build_environ, path_and_script  # noqa: E402
from berth_runtime.script_name import mount_prefixes  # noqa: E402


def head_fields(head):
    return {
        'method': head.method, 'target': head.target, 'path': head.path, 'query': head.query,
        'version': head.version,
        'headers': [[n.decode('latin-1'), v.decode('latin-1')] for n, v in head.headers],
        'framing': 'chunked' if head.chunked else head.content_length,
        'keep_alive': head.keep_alive, 'expect_continue': head.expect_continue, 'host': head.host,
    }


def environ(head, body_length, facts):
    """The direct path's CGI variables for `head` (wsgi.* aside: the base is empty).  facts:
    {"connection": {local_address, local_port, remote_address, remote_port}, "mounts": [...]}."""
    conn = facts['connection']
    split = path_and_script(head.path, mount_prefixes(facts['mounts']))
    if split is None:
        return {'status': 400}
    return build_environ({}, head, split[0], split[1], (conn['local_address'], conn['local_port']),
                         (conn['remote_address'], conn['remote_port']), body_length)


def _body(head, data, max_head, max_body, by_byte, facts):
    """The chunked body after `head`: its verdict, fed whole or one byte at a time."""
    decoder = ChunkedDecoder(max_body, max_head - head.head_length)
    pieces = []
    pos = head.head_length
    while pos < len(data) and not decoder.done and decoder.failure is None:
        stop = pos + 1 if by_byte else len(data)
        decoder.decode(data[:stop], pos, pieces)
        pos = stop
    if decoder.failure is not None:
        return {'status': STATUS_OF[decoder.failure[0]]}
    if not decoder.done:
        return 'incomplete'
    out = head_fields(head)
    body = b''.join(pieces)
    out['body'] = body.decode('latin-1')
    if facts is not None:
        out['environ'] = environ(head, len(body), facts)
    return out


def verdict(data, max_head, max_body, by_byte=False, facts=None):
    """Whole: one parse of `data`.  By byte: the head parsed on every prefix until it is
    decided, then the body fed to the decoder one byte at a time.  With `facts`, a parsed
    verdict carries the environ too."""
    head = None
    for stop in (range(1, len(data) + 1) if by_byte else (len(data),)):
        head = parse_request_head(data[:stop], max_head, max_body)
        if head is not None:
            break
    if head is None:
        return 'incomplete'
    if isinstance(head, HeadError):
        return {'status': head.status}
    if head.chunked:
        return _body(head, data, max_head, max_body, by_byte, facts)
    out = head_fields(head)
    if facts is not None:
        out['environ'] = environ(head, head.content_length, facts)
    return out


def main():
    out = sys.stdout
    for line in sys.stdin:
        case = json.loads(line)
        data = bytes.fromhex(case['hex'])
        facts = case.get('facts')
        whole = verdict(data, case['max_head'], case['max_body'], facts=facts)
        by_byte = verdict(data, case['max_head'], case['max_body'], True, facts) if case.get('by_byte') else whole
        out.write(json.dumps({'whole': whole, 'by_byte': by_byte}) + '\n')
        out.flush()


if __name__ == '__main__':
    main()
