"""HTTP/1.1 request-head parser for the worker runtime: bytes in, a head or an error out.

Pure (no sockets, files or timers) and held to the same verdicts as the master's codec
(src/protocol/http1/request-parser.ts, head.ts, target.ts): both run
test/fixtures/conformance/http-request-heads.json and are fuzzed against each other
(test/fuzz/http-parser-diff.test.ts).  docs/http-rulebook.md lists every rule and its RFC
section.  parse_request_head() is called on all the bytes received so far; it answers None
while the head is incomplete, so feeding a head byte by byte and whole give one verdict.
Line ends must be CRLF: a bare CR or LF is refused as soon as it is seen (RFC 9112 §2.2).
Every direct request is parsed here, so an ordinary head (origin-form, HTTP/1.0 or 1.1, plain
fields, no Transfer-Encoding) is recognised by one match and built directly (_plain_head);
anything it does not recognise goes through every rule (parse_by_rulebook), which alone refuses.
test_http_request.py holds the fast path to the rulebook's verdicts on mutated heads."""

import re

from .http_target import authority_host_end, target_form_error, absolute_form_authority, split_target

MAX_SAFE_INTEGER = 2 ** 53 - 1

_TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
# method SP request-target SP (RFC 9112 §3); the target's bytes as the TARGET table allows.
_REQUEST_LINE = re.compile(rb'(' + _TCHAR + rb'+) ([\x21-\x7e\x80-\xff]+) ')
_VERSION_OK = re.compile(rb'HTTP/1\.([0-9])\Z')
_VERSION_OTHER = re.compile(rb'HTTP/[0-9]\.[0-9]\Z')
# field-line = field-name ":" OWS field-value OWS (RFC 9112 §5); no CTL but HTAB in values.
# Each pattern has one way to match (no class overlaps the next), so matching stays linear on
# hostile input; the OWS is stripped afterwards, not matched.
_FIELD_VALUE = rb'[\t\x20-\x7e\x80-\xff]*'
_FIELD_BLOCK = re.compile(rb'(?:' + _TCHAR + rb'+:' + _FIELD_VALUE + rb'\r\n)*\Z')
_FIELD_LINES = re.compile(rb'(' + _TCHAR + rb'+):(' + _FIELD_VALUE + rb')\r\n')
_FRAMING_FIELDS = frozenset((b'host', b'content-length', b'transfer-encoding', b'connection', b'expect'))
_CONTENT_LENGTH = re.compile(rb'[0-9]{1,16}\Z')
# A reg-name Host with an optional port: authority_host_end() accepts it (one C match for the
# usual Host; an IP literal or anything else asks authority_host_end()).
_PLAIN_HOST = re.compile(rb"[0-9A-Za-z\-._~%!$&'()*+,;=]*(?::[0-9]*)?\Z")
# The fast path: an origin-form request-line of HTTP/1.0 or 1.1 and a well-formed field block,
# checked in one match; the fields are then read as the full parser reads them.  A head it
# matches is one the full parser accepts the same way (target, version and field-block checks
# pass), so only the framing fields are left to judge; anything else goes to the full parser.
_PLAIN_REQUEST = re.compile(rb'(' + _TCHAR + rb'+) (/[\x21-\x7e\x80-\xff]*) HTTP/1\.([01])\r\n((?:'
                            + _TCHAR + rb'+:' + _FIELD_VALUE + rb'\r\n)*)\r\n')


class HeadError(object):
    """A refused head: the status to answer with and why (for the log)."""

    __slots__ = ('status', 'reason')

    def __init__(self, status, reason):
        self.status = status
        self.reason = reason

    def __repr__(self):
        return 'HeadError(%d, %r)' % (self.status, self.reason)


class RequestHead(object):
    """A parsed head.  headers: [(lower-case name, value)] as bytes, values trimmed of OWS;
    content_length: the body's length (0 without one, -1 when chunked); host: the absolute-form
    target's authority, else the Host value, else ''; head_length: the bytes the head took,
    empty lines before it included."""

    __slots__ = ('method', 'target', 'path', 'query', 'version', 'headers', 'head_length',
                 'content_length', 'chunked', 'keep_alive', 'expect_continue', 'host')

    def __init__(self, method, target, path, query, version, headers, head_length, content_length,
                 chunked, keep_alive, expect_continue, host):
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.head_length = head_length
        self.content_length = content_length
        self.chunked = chunked
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.host = host


def _bad(reason):
    return HeadError(400, reason)


def parse_request_head(data, max_head, max_body=0):
    """The head at the start of `data`: None while incomplete, a RequestHead, or a HeadError.
    max_head bounds the empty lines, request-line and fields (431, or 414 when the request-line
    alone does not fit); max_body (0 = none) bounds a declared Content-Length (413)."""
    idx = data.find(b'\r\n\r\n')
    if 0 < idx <= max_head - 4:
        m = _PLAIN_REQUEST.fullmatch(data, 0, idx + 4)
        if m is not None:
            head = _plain_head(m, idx + 4, max_body)
            if head is not None:
                return head
    return parse_by_rulebook(data, max_head, max_body)


def parse_by_rulebook(data, max_head, max_body=0):
    """parse_request_head() without its fast path: every rule checked, each refusal made here."""
    end = len(data)
    pos = 0
    # RFC 9112 §2.2: empty lines before the request-line are skipped, within the head budget.
    lead_cr = False
    while pos < end:
        c = data[pos]
        if lead_cr:
            if c != 10:
                return _bad('bare CR before the request-line (RFC 9112 §2.2)')
            lead_cr = False
        elif c == 13:
            lead_cr = True
        elif c == 10:
            return _bad('bare LF before the request-line (RFC 9112 §2.2)')
        else:
            break
        pos += 1
        if pos >= max_head:
            return HeadError(431, 'too many empty lines before the request-line')
    if pos == end:
        return None
    budget = max_head - pos
    idx = data.find(b'\r\n\r\n', pos)
    if idx != -1 and idx + 4 - pos <= budget:
        return _parse_head(data, pos, idx + 2, idx + 4, max_body)
    limit = pos + min(end - pos, budget)
    error = _line_end_error(data, pos, limit)
    if error is not None:
        return error
    if idx != -1 or end - pos >= budget:
        line_end = data.find(b'\r\n', pos)
        if line_end == -1 or line_end + 2 > limit:
            return HeadError(414, 'request-line longer than the %d-byte head limit' % max_head)
        return HeadError(431, 'request head larger than %d bytes' % max_head)
    return None


def _line_end_error(data, start, limit):
    """A bare LF, or a CR followed by something else than LF, in data[start, limit) — a CR in
    the last place waits for the next byte."""
    i = data.find(b'\n', start, limit)
    while i != -1:
        if i == start or data[i - 1] != 13:
            return _bad('bare LF in the request head (RFC 9112 §2.2)')
        i = data.find(b'\n', i + 1, limit)
    i = data.find(b'\r', start, limit)
    while i != -1 and i + 1 < limit:
        if data[i + 1] != 10:
            return _bad('bare CR in the request head (RFC 9112 §2.2)')
        i = data.find(b'\r', i + 1, limit)
    return None


def _parse_head(data, start, end, head_length, max_body):
    """data[start, end) is request-line CRLF *( field-line CRLF ) (end is after the last CRLF)."""
    line_end = data.find(b'\r\n', start, end)
    line = data[start:line_end]
    m = _REQUEST_LINE.match(line)
    if m is None:
        return _bad('malformed request-line (RFC 9112 §3)')
    method = m.group(1).decode('latin-1')
    raw_target = m.group(2)
    form_error = target_form_error(method, raw_target)
    if form_error is not None:
        return _bad(form_error)
    version_bytes = line[m.end():]
    deferred = None
    v = _VERSION_OK.match(version_bytes)
    if v is not None:
        # RFC 9112 §2.6: a higher minor version is answered as 1.1.
        minor = 0 if v.group(1) == b'0' else 1
    elif _VERSION_OTHER.match(version_bytes):
        minor = 1
        deferred = HeadError(505, 'HTTP version %s is not supported' % version_bytes.decode('latin-1'))
    else:
        return _bad('malformed HTTP-version in request-line (RFC 9112 §2.3)')

    content_length = -1
    transfer_encoding = None
    hosts = 0
    host = ''
    close = keep_alive_option = expect_continue = False
    fields = data[line_end + 2:end]
    if _FIELD_BLOCK.match(fields) is None:
        return _bad('malformed field line (RFC 9112 §5, RFC 9110 §5.5)')
    headers = [(name.lower(), value.strip(b' \t')) for name, value in _FIELD_LINES.findall(fields)]
    for name, value in headers:
        if name not in _FRAMING_FIELDS:
            continue
        if name == b'host':
            hosts += 1
            if authority_host_end(value) == -1:
                return _bad('invalid Host field value (RFC 9110 §7.2)')
            host = value.decode('latin-1')
        elif name == b'content-length':
            if content_length != -1:
                return _bad('more than one Content-Length (RFC 9112 §6.3)')
            if _CONTENT_LENGTH.match(value) is None or int(value) > MAX_SAFE_INTEGER:
                return _bad('invalid Content-Length (RFC 9110 §8.6)')
            content_length = int(value)
        elif name == b'transfer-encoding':
            transfer_encoding = value if transfer_encoding is None else transfer_encoding + b', ' + value
        elif name == b'connection':
            options = _connection_options(value)
            close = close or b'close' in options
            keep_alive_option = keep_alive_option or b'keep-alive' in options
        elif name == b'expect' and value.lower() == b'100-continue':
            expect_continue = True
    if deferred is not None:
        return deferred
    if hosts > 1:
        return _bad('more than one Host field (RFC 9112 §3.2)')
    if hosts == 0 and minor == 1:
        return _bad('HTTP/1.1 request without Host (RFC 9112 §3.2)')
    chunked = False
    if transfer_encoding is not None:
        if minor == 0:
            return _bad('Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)')
        if content_length != -1:
            return _bad('both Transfer-Encoding and Content-Length (RFC 9112 §6.3)')
        error = _transfer_encoding_error(transfer_encoding)
        if error is not None:
            return error
        chunked = True
    if max_body > 0 and content_length > max_body:
        return HeadError(413, 'Content-Length %d exceeds the body limit of %d bytes' % (content_length, max_body))
    target = raw_target.decode('latin-1')
    authority = absolute_form_authority(target)
    path, query = split_target(target)
    return RequestHead(
        method, target, path, query, 'HTTP/1.%d' % minor, headers, head_length,
        -1 if chunked else max(content_length, 0), chunked,
        not close and (minor == 1 or keep_alive_option),
        expect_continue and minor == 1,
        host if authority is None else authority)


def _plain_head(m, head_length, max_body):
    """The RequestHead of a head _PLAIN_REQUEST matched, or None when its fields need the full
    parser (Transfer-Encoding, a CONNECT, a Host or Content-Length to refuse, a body over
    max_body): the full parser then gives the verdict, so there is one place for each refusal."""
    method, raw_target, minor = m.group(1, 2, 3)
    if method == b'CONNECT':
        return None
    headers = [(name.lower(), value.strip(b' \t')) for name, value in _FIELD_LINES.findall(m.string, m.start(4), m.end(4))]
    content_length = -1
    host = None
    close = keep_alive_option = expect_continue = False
    for name, value in headers:
        if name not in _FRAMING_FIELDS:
            continue
        if name == b'host':
            if host is not None or (_PLAIN_HOST.match(value) is None and authority_host_end(value) == -1):
                return None
            host = value
        elif name == b'content-length':
            if content_length != -1 or _CONTENT_LENGTH.match(value) is None:
                return None
            content_length = int(value)
        elif name == b'connection':
            options = _connection_options(value)
            close = close or b'close' in options
            keep_alive_option = keep_alive_option or b'keep-alive' in options
        elif name == b'transfer-encoding':
            return None
        elif value.lower() == b'100-continue':  # expect
            expect_continue = True
    one_one = minor == b'1'
    if host is None and one_one:
        return None
    if content_length > MAX_SAFE_INTEGER or (max_body > 0 and content_length > max_body):
        return None
    target = raw_target.decode('latin-1')
    path, _, query = target.partition('?')
    return RequestHead(
        method.decode('latin-1'), target, path, query, 'HTTP/1.1' if one_one else 'HTTP/1.0', headers,
        head_length, max(content_length, 0), False, not close and (one_one or keep_alive_option),
        expect_continue and one_one, '' if host is None else host.decode('latin-1'))


def _connection_options(value):
    """The options a Connection field lists, lower-cased (RFC 9110 section 7.6.1)."""
    return [option.strip(b' \t').lower() for option in value.split(b',')]


def _transfer_encoding_error(value):
    """chunked must be the final coding, once; it is the only one decoded (RFC 9112 §6.1, §6.3)."""
    codings = [c.strip(b' \t').lower() for c in value.split(b',')]
    codings = [c for c in codings if c]
    if not codings:
        return _bad('empty Transfer-Encoding')
    if codings[-1] != b'chunked':
        return _bad('Transfer-Encoding whose final coding is not chunked (RFC 9112 §6.3)')
    if codings.count(b'chunked') > 1:
        return _bad('chunked applied more than once (RFC 9112 §6.1)')
    if len(codings) > 1:
        return HeadError(501, 'unsupported transfer coding')
    return None
