"""A direct HTTP request: its environ (as the master builds it), its access-log record, its sink.

The environ follows src/server/http-environ.ts buildCgiBlock: PATH_INFO percent-decoded read as
latin-1, header names with '_' dropped, Transfer-Encoding and Content-Length not passed on,
repeated fields joined with ', ' (Cookie with '; '), an absolute-form authority in place of Host,
SERVER_NAME from Host without its port (an IPv6 literal bracketed), else the local address;
CONTENT_LENGTH for a body, or for POST, PUT and PATCH (the `environ` of each valid case in
test/fixtures/conformance/http-request-heads.json holds both sides to it; docs/http-rulebook.md
"The environ").  The response is framed as the master frames it (keep_alive_head):
chunked to an HTTP/1.1 client when its length is unknown.  The access-log record carries these
variables as a uwsgi vars block, so the master logs it through the same DIRECT record code as
uwsgi-direct (src/server/direct-record.ts)."""

from urllib.parse import unquote_to_bytes

from .direct_request import DirectRequest
from .responses import ResponseInvalid
from .http_head import FRAMED_CHUNKED, keep_alive_head
from .script_name import split_script_name

_CGI_NAMES = {}
_WITH_LENGTH = frozenset(('POST', 'PUT', 'PATCH'))


def cgi_name(name):
    """b'user-agent' -> 'HTTP_USER_AGENT'; None for the names the master drops."""
    cgi = _CGI_NAMES.get(name)
    if cgi is None:
        text = name.decode('latin-1')
        if '_' in text or text in ('transfer-encoding', 'content-length'):
            cgi = ''
        elif text == 'content-type':
            cgi = 'CONTENT_TYPE'
        else:
            cgi = 'HTTP_' + text.upper().replace('-', '_')
        if len(_CGI_NAMES) < 2048:
            _CGI_NAMES[name] = cgi
    return cgi or None


def decoded_path(path):
    """The percent-decoded path read as latin-1; None when it decodes to a NUL (the master
    answers that with 400, so the connection goes to it)."""
    if '%' in path:
        # From bytes: given a str, unquote_to_bytes would encode obs-text as UTF-8 first.
        path = unquote_to_bytes(path.encode('latin-1')).decode('latin-1')
    return None if '\0' in path else path


def path_and_script(path, mounts):
    """(PATH_INFO, SCRIPT_NAME) of a request path under `mounts` (mount_prefixes pairs), as
    src/server/script-name.ts splits it; None when the path decodes to a NUL."""
    path = decoded_path(path)
    if path is None:
        return None
    if not mounts:
        return path, ''
    script_name, path_info = split_script_name(path, mounts)
    return path_info, script_name


def server_name(host, local_address):
    """SERVER_NAME (RFC 3875 4.1.14) as src/server/http-environ.ts cgiServerName: Host's host part
    ('[::1]:80' -> '[::1]'), else the local address, an IPv6 one bracketed."""
    if host[:1] == '[':
        end = host.find(']')
        name = host if end == -1 else host[:end + 1]
    else:
        colon = host.find(':')
        name = host if colon == -1 else host[:colon]
    if name:
        return name
    local_address = unmap_ipv4(local_address)
    return '[' + local_address + ']' if ':' in local_address else local_address


def unmap_ipv4(address):
    """An IPv4 peer of a dual-stack listener shows as ::ffff:a.b.c.d; CGI wants a.b.c.d (as
    src/server/endpoints.ts unmapIPv4)."""
    return address[7:] if address[:7] == '::ffff:' and '.' in address else address


def build_environ(base, head, path_info, script_name, local, peer, length):
    """The environ of `head` (a RequestHead) over a copy of `base`."""
    env = base.copy()
    host = None
    names = _CGI_NAMES
    for name, value in head.headers:
        cgi = names.get(name)
        if cgi is None:
            cgi = cgi_name(name)
            if cgi is None:
                continue
        elif not cgi:
            continue
        text = value.decode('latin-1')
        if cgi in env:  # the base holds no HTTP_* nor CONTENT_TYPE: only a repeated field
            env[cgi] += ('; ' if cgi == 'HTTP_COOKIE' else ', ') + text
            continue
        if cgi == 'HTTP_HOST':
            text = host = head.host  # the absolute-form authority, else this (the only) Host
        env[cgi] = text
    env['REQUEST_METHOD'] = head.method
    env['REQUEST_URI'] = head.target
    env['PATH_INFO'] = path_info
    env['QUERY_STRING'] = head.query
    env['SCRIPT_NAME'] = script_name
    env['SERVER_PROTOCOL'] = head.version
    if host is None and head.host:  # an absolute-form target without a Host field (HTTP/1.0)
        host = env['HTTP_HOST'] = head.host
    env['SERVER_NAME'] = server_name(host or '', local[0])
    env['SERVER_PORT'] = str(local[1])
    env['REMOTE_ADDR'] = unmap_ipv4(peer[0])
    env['REMOTE_PORT'] = str(peer[1])
    if length > 0 or head.method in _WITH_LENGTH:
        env['CONTENT_LENGTH'] = str(length)
    return env


def record_block(env):
    """The CGI variables of `env` as a uwsgi vars block (for the DIRECT record).  Built as
    one str encoded once: latin-1 with 'replace' gives one byte per character, so the lengths
    are the str lengths, written as two characters below 256 (u16, little-endian)."""
    parts = []
    add = parts.append
    prefixes = _VAR_PREFIX
    lengths = _U16_TEXT
    for key, value in env.items():
        if type(value) is str and not key.startswith('wsgi.'):
            prefix = prefixes.get(key)
            if prefix is None:
                prefix = _u16_text(len(key)) + key
                if len(prefixes) < 1024:
                    prefixes[key] = prefix
            add(prefix)
            n = len(value)
            add(lengths[n] if n < 4096 else _u16_text(n))
            add(value)
    return ''.join(parts).encode('latin-1', 'replace')


def _u16_text(n):
    if n > 0xFFFF:
        raise ValueError('%d characters do not fit a uwsgi var' % n)
    return chr(n & 255) + chr(n >> 8)


_U16_TEXT = [_u16_text(n) for n in range(4096)]
_VAR_PREFIX = {}  # key -> its length and the key, as record_block writes them


_LAST_CHUNK = b'0\r\n\r\n'


class HttpDirectRequest(DirectRequest):
    """DirectRequest whose head keeps the connection open when the client asked for it and
    the response's end is known to the client (a length, chunked, or no body); `kept` says
    whether the connection may carry another request."""

    __slots__ = ('keep', 'failed', 'http11', 'chunked', 'ended')

    def __init__(self, env, server, conn, date, head_only, keep, http11):
        DirectRequest.__init__(self, env, server, conn, date, head_only)
        self.keep = keep
        self.http11 = http11
        self.failed = False
        self.chunked = False
        self.ended = False

    def head(self, whole=None):
        head, length, framing, self.keep = keep_alive_head(self.status, self.headers, self.date, whole,
                                                           self.keep, self.http11, self.head_only)
        self.code = int(self.status[:3])
        self.chunked = framing == FRAMED_CHUNKED
        if self.head_only or self.code in (204, 304):
            self.length = 0
        else:
            self.length = length
        self.head_sent = True
        return head

    def send_body(self, data, head=None):
        if not self.chunked:
            if head is None and not self.head_sent:
                head = self.head()
            if not self.chunked:
                if self.length is not None and len(data) > self.length - self.sent and not self.head_only \
                        and self.code != 204 and self.code != 304:
                    self.keep = False  # cut at its Content-Length, as the master cuts it, and closed
                return DirectRequest.send_body(self, data, head)
        if head is None:
            head = b''
        # One chunk per piece the app gave, as the master writes them (http-response-writer.ts).
        n = len(data)
        self.sent += n
        if n < 65536:
            self.conn.sendall(head + (b'%x\r\n' % n) + data + b'\r\n')
            return
        self.conn.sendall(head + (b'%x\r\n' % n))
        self.conn.sendall(data)
        self.conn.sendall(b'\r\n')

    def send_file(self, wrapper, plan):
        """A file_wrapper over a regular file: sendfile(), as one chunk when the length is not
        declared (its size is known before a byte of it goes); False to stream it."""
        if self.head_sent:
            return False
        try:
            head = self.head()
        except ResponseInvalid:
            return False  # stream() reports it and closes
        fd, offset, length = plan
        conn = self.conn
        if not self.chunked:
            conn.sendall(head)
            if self.length is not None:
                length = min(length, self.length)
        elif length > 0:
            conn.sendall(head + (b'%x\r\n' % length))
        else:
            conn.sendall(head)
            return True
        length = self.sendfile_range(fd, offset, length)
        if self.chunked:
            if length > 0:
                self.failed = True  # the file shrank: no last chunk, so the client sees the cut
            else:
                conn.sendall(b'\r\n')
        elif self.length is not None and self.sent < self.length:
            self.failed = True
        return True

    def end(self):
        if self.chunked:
            if not self.failed and not self.ended:
                self.conn.sendall(_LAST_CHUNK)
                self.ended = True
            return
        if not self.head_sent:
            head = self.head()
            if self.chunked:
                self.conn.sendall(head + _LAST_CHUNK)
                self.ended = True
                return
            self.conn.sendall(head)
            return
        DirectRequest.end(self)

    def fail(self, reason):
        self.failed = True
        DirectRequest.fail(self, reason)

    def answer(self, status, text):
        self.keep = False
        DirectRequest.answer(self, status, text)

    def kept(self):
        """After the app: may the connection serve the next request?"""
        if not self.keep or self.failed or not self.head_sent:
            return False
        if self.chunked:
            return self.ended
        return self.length is None or self.length == 0 or self.sent >= self.length
