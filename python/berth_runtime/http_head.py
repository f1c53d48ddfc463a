"""The checked HTTP/1.1 head of a direct response, and its Date header.

Checked as the master checks a worker's head (src/protocol/http1/response.ts; both run
test/fixtures/conformance/response-heads.json).  Direct paths only: uwsgi-direct closes after
each response (http_head); direct HTTP frames it as the master's planResponse does
(keep_alive_head: Content-Length, chunked for an HTTP/1.1 client, else close-delimited)."""

import re
import time

from .responses import MAX_SAFE_INTEGER, ResponseInvalid, describe_bad_head

HOP_BY_HOP = frozenset(('connection', 'keep-alive', 'proxy-connection', 'transfer-encoding',
                        'upgrade', 'te', 'trailer'))
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
HEADER_VALUE_BAD = re.compile(r'[\x00-\x08\x0a-\x1f\x7f]')


class HttpDate(object):
    """The Date header value, formatted once per second."""

    __slots__ = ('_second', '_text')

    def __init__(self):
        self._second = -1
        self._text = ''

    def __call__(self):
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._text = time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(now))
        return self._text


# What a header name means for the head, by name: apps send a handful of distinct names, so
# the token check and the lower-casing run once per name, not once per response.
_NAME_KIND = {}
NAME_PLAIN, NAME_HOP, NAME_LENGTH, NAME_DATE, NAME_CONNECTION = range(5)
_CLOSE_OPTION = re.compile(r'(?:^|[,\t ])close(?:$|[,\t ])', re.I)


def name_kind(name):
    kind = _NAME_KIND.get(name)
    if kind is None:
        if type(name) is not str or not HEADER_NAME.match(name):
            raise ResponseInvalid('header name %r is not a token (RFC 9110 section 5.1)' % (name,))
        lower = name.lower()
        kind = (NAME_CONNECTION if lower == 'connection' else NAME_HOP if lower in HOP_BY_HOP else NAME_LENGTH if lower == 'content-length'
                else NAME_DATE if lower == 'date' else NAME_PLAIN)
        if len(_NAME_KIND) < 1024:
            _NAME_KIND[name] = kind
    return kind


def app_lines(status, headers, whole):
    """The checked head lines of the app's response: (lines, Content-Length or None, has Date,
    the app's Connection lists close); ResponseInvalid if bad.  `whole`: the length of a body
    known in full, declared when the app did not (sendFull).
    Runs on every direct response: header names are judged through the _NAME_KIND memo, and
    the status and values are scanned for control characters in one search of the lines."""
    if not status[:3].isascii():  # start_response's isdigit() also passes '\xb200', which int() refuses
        raise ResponseInvalid('status %r is not "NNN Reason" (PEP 3333)' % (status,))
    code = int(status[:3])
    if code < 200:
        raise ResponseInvalid('status %r: a WSGI app cannot send 1xx interim responses' % (status,))
    if code > 599:
        raise ResponseInvalid('status %r: status codes end at 599 (RFC 9110 section 15)' % (status,))
    lines = ['HTTP/1.1 ' + status]
    length = None
    has_date = False
    app_close = False
    dropped = None  # hop-by-hop values: not sent, but checked like the rest
    kinds = _NAME_KIND
    for name, value in headers:
        kind = kinds.get(name)
        if kind is None:
            kind = name_kind(name)
        if kind != NAME_PLAIN:
            if kind == NAME_HOP or kind == NAME_CONNECTION:
                dropped = (dropped or '') + value
                if kind == NAME_CONNECTION and _CLOSE_OPTION.search(value):
                    app_close = True
                continue
            if kind == NAME_LENGTH:
                if length is not None:
                    raise ResponseInvalid('more than one Content-Length header')
                # DIGITS without the regex call: ASCII digits only, at most 16 of them, and no
                # whitespace around them (the master refuses it too)
                if not (value.isdigit() and value.isascii() and len(value) <= 16) or int(value) > MAX_SAFE_INTEGER:
                    raise ResponseInvalid('Content-Length %r is not a non-negative integer' % (value,))
                length = int(value)
                if code == 204:
                    dropped = (dropped or '') + value
                    continue
            else:
                has_date = True
        lines.append(name + ': ' + value)
    # Names are tokens (name_kind), so a control character here is in the status or a value;
    # CR/LF there would split the response.  isprintable() clears the usual head in one C loop;
    # what it doubts (a tab, a non-ASCII letter) goes to the exact search.
    checked = ''.join(lines)
    if (not checked.isprintable() and HEADER_VALUE_BAD.search(checked)) or \
            (dropped is not None and HEADER_VALUE_BAD.search(dropped)):
        for what, text in [('status', status)] + [('header %r value' % (n,), v) for n, v in headers]:
            if HEADER_VALUE_BAD.search(text):
                raise ResponseInvalid('response %s contains a control character (CR/LF: response splitting): %r'
                                      % (what, text))
        raise ResponseInvalid('response head contains a control character')
    if dropped is not None:
        try:
            dropped.encode('latin-1')  # not sent, but the master refuses it as it refuses the rest
        except UnicodeEncodeError:
            raise ResponseInvalid(describe_bad_head(status, headers))
    if length is None and whole is not None and code != 204 and code != 304:
        length = whole
        lines.append('Content-Length: %d' % whole)
    return lines, length, has_date, app_close


def _encoded(lines, status, headers):
    try:
        return '\r\n'.join(lines).encode('latin-1')
    except UnicodeEncodeError:
        raise ResponseInvalid(describe_bad_head(status, headers))


def build_http_head(status, headers, date, whole=None):
    """(the latin1 HTTP/1.1 head, Content-Length or None) for a uwsgi-direct response, which
    closes the connection after it; ResponseInvalid if bad."""
    lines, length, has_date, _ = app_lines(status, headers, whole)
    if not has_date:
        lines.append('Date: ' + date())
    lines.append('Connection: close\r\n\r\n')
    return _encoded(lines, status, headers), length


# How a direct HTTP response's body is delimited (src/protocol/http1/response.ts ResponseFraming).
FRAMED_NONE, FRAMED_LENGTH, FRAMED_CHUNKED, FRAMED_CLOSE = range(4)


def build_keep_alive_head(status, headers, date, whole, keep, http11, head_only):
    """(head, Content-Length or None, framing, keep) for a direct HTTP response, planned as the
    master's planResponse plans it for the same request: a body of unknown length goes chunked
    to an HTTP/1.1 client and close-delimited to an HTTP/1.0 one (RFC 9112 section 6.3 rule 8);
    an HTTP/1.0 client that asked for keep-alive is told "Connection: keep-alive"; the app's
    "Connection: close" closes.  `keep`: the client's head allows another request."""
    lines, length, has_date, app_close = app_lines(status, headers, whole)
    keep = keep and not app_close
    code = status[:3]
    if head_only or code == '204' or code == '304':
        framing = FRAMED_NONE
    elif length is not None:
        framing = FRAMED_LENGTH
    elif http11:
        framing = FRAMED_CHUNKED
        lines.append('Transfer-Encoding: chunked')
    else:
        framing = FRAMED_CLOSE
        keep = False
    if not has_date:
        lines.append('Date: ' + date())
    if not keep:
        lines.append('Connection: close\r\n\r\n')
    elif http11:
        lines.append('\r\n')
    else:
        lines.append('Connection: keep-alive\r\n\r\n')
    return _encoded(lines, status, headers), length, framing, keep


# Heads already built, by everything they are made of (the Date text included): most apps
# answer most requests with the same status and headers, so the same head is built once a
# second.  Cleared at HEAD_CACHE_MAX entries; a refused head is never kept (it raises each time).
_HEAD_CACHE = {}
HEAD_CACHE_MAX = 256


def _remembered(key, build):
    try:
        return _HEAD_CACHE[key]
    except KeyError:
        pass
    built = build()
    if len(_HEAD_CACHE) >= HEAD_CACHE_MAX:
        _HEAD_CACHE.clear()
    _HEAD_CACHE[key] = built
    return built


def http_head(status, headers, date, whole=None):
    """build_http_head(), remembered (uwsgi-direct)."""
    try:
        key = (status, tuple(headers), whole, date())
        hash(key)
    except TypeError:  # an unhashable item: start_response let through what the build refuses
        return build_http_head(status, headers, date, whole)
    return _remembered(key, lambda: build_http_head(status, headers, lambda: key[3], whole))


def keep_alive_head(status, headers, date, whole, keep, http11, head_only):
    """build_keep_alive_head(), remembered (direct HTTP)."""
    try:
        key = (status, tuple(headers), whole, keep, http11, head_only, date())
        hash(key)
    except TypeError:
        return build_keep_alive_head(status, headers, date, whole, keep, http11, head_only)
    return _remembered(key, lambda: build_keep_alive_head(status, headers, lambda: key[6], whole, keep, http11, head_only))


def plain_response(status, text, date, head_only=False):
    body = b'' if head_only else text
    return ('HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n'
            'Date: %s\r\nConnection: close\r\n\r\n' % (status, len(text), date())).encode('latin-1') + body

