"""Response rules every server path shares: head and body checks, file plans.

Status and header checks, the framed HEAD block, body items, and whether a file_wrapper's body can leave as a file."""

import io
import itertools
import os
import stat
import sys

# Smaller file bodies are read here: one read() costs less than the FILE round trip.
FILE_MIN_BYTES = 64 << 10
# The master opens our descriptor as /proc/<pid>/fd/<fd>, which only Linux offers.
FILE_FRAMES = sys.platform.startswith('linux')

# Lengths past this are not exact in the master's JavaScript numbers.
MAX_SAFE_INTEGER = (1 << 53) - 1

_chain = itertools.chain.from_iterable


class ResponseInvalid(Exception):
    """The app's response cannot be sent safely; the text is the ERROR frame reason."""


class ResponseAborted(OSError):
    """Raised by write() after the master reported the client gone (ABORT)."""


def status_error(status):
    if not isinstance(status, str):
        return TypeError('start_response() status must be a str like "200 OK", not %s' % type(status).__name__)
    return ValueError('start_response() status must be "NNN Reason" (PEP 3333), got %r' % (status,))


def check_headers_slowly(headers):
    """The precise complaint about a header list that failed the fast check, or None."""
    if not isinstance(headers, list):
        return TypeError('start_response() headers must be a list of (name, value) tuples, not %s'
                         % type(headers).__name__)
    for i, item in enumerate(headers):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            return TypeError('start_response() header %d must be a (name, value) tuple, got %r' % (i, item))
        for what, value in (('name', item[0]), ('value', item[1])):
            if not isinstance(value, str):
                return TypeError('start_response() header %d %s must be str, not %s: %r'
                                 % (i, what, type(value).__name__, item))
    return None


def encode_head(status, headers):
    """The latin1 HEAD block; refuses NUL, CR/LF and non-latin1 text (header injection)."""
    head = '\0'.join([status, *_chain(headers)])
    if head.count('\0') != 2 * len(headers) or '\r' in head or '\n' in head:
        raise ResponseInvalid(describe_bad_head(status, headers))
    try:
        return head.encode('latin-1')
    except UnicodeEncodeError:
        raise ResponseInvalid(describe_bad_head(status, headers))


def describe_bad_head(status, headers):
    for what, text in [('status', status)] + [('header %r' % (n,), v) for n, v in headers] + \
            [('header name %r' % (n,), n) for n, _ in headers]:
        for ch, name in (('\0', 'NUL'), ('\r', 'CR'), ('\n', 'LF')):
            if ch in text:
                return 'response %s contains %s: %r' % (what, name, text)
        try:
            text.encode('latin-1')
        except UnicodeEncodeError:
            return 'response %s is not latin-1 (encode non-ASCII values per RFC 8187): %r' % (what, text)
    return 'response head is invalid'


def describe_bad_body(items):
    for i, item in enumerate(items):
        if not isinstance(item, (bytes, bytearray, memoryview)):
            return 'response body item %d is %s, not bytes' % (i, type(item).__name__)
    return 'response body could not be joined'


def joined_body(req, result):
    """A list/tuple response as one bytes object; ResponseInvalid if it cannot be sent."""
    try:
        body = b''.join(result)
    except TypeError:
        raise ResponseInvalid(describe_bad_body(result))
    if req.status is None:
        raise ResponseInvalid('the app returned without calling start_response()')
    return body


def as_bytes(chunk, index):
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    raise ResponseInvalid('response body item %d is %s, not bytes' % (index, type(chunk).__name__))


def declared_length(headers):
    """The response's Content-Length as an int, or None when absent or not a number."""
    for name, value in headers:
        if len(name) == 14 and name.lower() == 'content-length':
            value = value.strip()
            return int(value) if value.isdigit() else None
    return None


def file_plan(wrapper, headers, enabled=FILE_FRAMES):
    """(fd, offset, length) when the body of this file_wrapper can leave from our descriptor
    (a binary, readable, regular file of at least FILE_MIN_BYTES from its current position,
    capped by Content-Length): the master sends it (FILE frame) or we sendfile() it (direct).
    Else None: stream it (BytesIO, pipes, sockets, text files, no fileno(), `enabled` false,
    as off Linux).  Never raises."""
    f = wrapper.filelike
    if not enabled or isinstance(f, io.TextIOBase):
        return None
    try:
        readable = getattr(f, 'readable', None)
        if readable is not None and not readable():
            return None
        fd = f.fileno()
        offset = f.tell()
        st = os.fstat(fd)
    except Exception:
        return None
    if type(fd) is not int or fd < 0 or type(offset) is not int or offset < 0 or not stat.S_ISREG(st.st_mode):
        return None
    length = st.st_size - offset
    declared = declared_length(headers)
    if declared is not None and declared < length:
        length = declared
    if length < FILE_MIN_BYTES:
        return None
    return fd, offset, length

