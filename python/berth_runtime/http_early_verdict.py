"""The direct path's cheapest hand-over test: a plain GET/HEAD of a static path, told before the full parse.

Pure (bytes in, a verdict out).  http_direct.judge() parses the whole head (fields split,
lower-cased, framing read) before it looks at the target; for a request the master's static
stage answers, all of that only leads to 'static'.  static_claim() looks at the request-line's
method and target first (the cheapest test), and says 'static' only where the judge would: the
head matches the parser's own fast-path pattern within the head limit (so nothing in it is
refused), it names exactly the framing fields a plain request has (one plain Host, or none in
HTTP/1.0; no Content-Length, Transfer-Encoding, Expect nor Upgrade), and
static_relay.for_static_stage() claims its target.  When it cannot tell, the judge decides as
before.  test_http_early_verdict.py holds it to the judge on the conformance heads."""

import re

from .http_request import _PLAIN_HOST, _PLAIN_REQUEST
from .static_relay import for_static_stage

# A field named like one that changes the judge's verdict, at the start of a field line (the
# search starts at the request-line's LF).  Field names have no whitespace before the colon in
# a head _PLAIN_REQUEST matched.
_FRAMING_FIELD = re.compile(rb'\n(host|content-length|transfer-encoding|expect|upgrade):([^\r]*)', re.IGNORECASE)


def static_claim(data, max_head, prefixes):
    """What http_direct.judge(data) would say of the static stage: True when it would answer
    'static'; False when its static test, if reached, would fail (the target or the method is
    not the static stage's), so it need not be run again; None when only the full judge knows."""
    if data[:4] == b'GET ':
        method = 'GET'
    elif data[:5] == b'HEAD ':
        method = 'HEAD'
    elif data[:1] == b'\r' or data[:1] == b'\n':
        return None  # empty lines before the request-line: the parser skips them
    else:
        return False  # a head that parses names this method, which the static stage never takes
    start = len(method) + 1
    end = data.find(b' ', start)
    if end == -1:
        return None
    # The cheapest test first: most targets are not static.  A head that parses has this target.
    if not for_static_stage(prefixes, {'REQUEST_METHOD': method, 'REQUEST_URI': data[start:end].decode('latin-1')}):
        return False
    idx = data.find(b'\r\n\r\n')
    if not 0 < idx <= max_head - 4:
        return None
    m = _PLAIN_REQUEST.fullmatch(data, 0, idx + 4)
    if m is None or m.end(2) != end:
        return None
    hosts = 0
    for name, value in _FRAMING_FIELD.findall(data, m.start(4) - 1, m.end(4)):
        if name.lower() != b'host' or hosts or _PLAIN_HOST.match(value.strip(b' \t')) is None:
            return None
        hosts = 1
    return True if hosts == 1 or m.group(3) == b'0' else None
