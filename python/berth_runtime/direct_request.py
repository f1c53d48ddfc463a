"""A direct request: the WSGI core's sink that writes HTTP/1.1 to the connection.

The WSGI core's sink for a connection this worker accepted, whose
response is written to it as HTTP/1.1 (Connection: close)."""

import os
import traceback

from .http_head import http_head, plain_response
from .responses import ResponseInvalid
from .wsgi_core import CoreRequest
from .wsgi_input import EMPTY_INPUT

INTERNAL_ERROR = b'Internal Server Error: the application raised an exception; see the server log.\n'
TIMEOUT_TEXT = b'Gateway Timeout: the request ran longer than harakiri.\n'


class DirectRequest(CoreRequest):
    """The core's state plus the connection, the Date source and what may still be sent."""

    __slots__ = ('conn', 'date', 'sent', 'length', 'head_only', 'code')

    def __init__(self, env, server, conn, date, head_only):
        self.id = 0
        self.env = env
        self.server = server
        self.input = EMPTY_INPUT
        self.status = None
        self.headers = None
        self.head_sent = False
        self.aborted = False
        self.conn = conn
        self.date = date
        self.sent = 0
        self.length = None
        self.head_only = head_only
        self.code = 0

    def head(self, whole=None):
        """The HTTP head; sets how much body may follow.  `whole`: see http_head()."""
        head, length = http_head(self.status, self.headers, self.date, whole)
        self.code = int(self.status[:3])
        if self.head_only or self.code in (204, 304):
            self.length = 0
        else:
            self.length = length
        self.head_sent = True
        return head

    # -- the WSGI core's sink

    def send_whole(self, body):
        """A whole body: framed by its length, as the master frames it (sendFull)."""
        self.send_body(body, self.head(len(body)))
        return True

    def send_body(self, data, head=None):
        if head is None:
            head = b'' if self.head_sent else self.head()
        if self.length is not None:
            room = self.length - self.sent
            if len(data) > room:
                if self.length > 0 and not self.head_only and self.code not in (204, 304):
                    self.server.log('%s %s: the app sent more body bytes than its Content-Length (%d); '
                                    'the body was cut there' % (self.env.get('REQUEST_METHOD'),
                                                                self.env.get('REQUEST_URI', ''), self.length))
                data = data[:room]
        self.sent += len(data)
        if head and len(data) < 65536:
            self.conn.sendall(head + data)  # one write for a head and a short body
            return
        if head:
            self.conn.sendall(head)
        if data:
            self.conn.sendall(data)

    def send_file(self, wrapper, plan):
        """A file_wrapper over a regular file: the head, then os.sendfile(); False to stream it."""
        fd, offset, length = plan
        try:
            head = self.head()
        except ResponseInvalid:
            return False  # stream() reports it and closes
        conn = self.conn
        conn.sendall(head)
        if self.length is not None:
            length = min(length, self.length)
        self.sendfile_range(fd, offset, length)
        return True

    def sendfile_range(self, fd, offset, length):
        """os.sendfile() of [offset, offset + length) onto the connection; what was not sent
        (more than 0 when the file shrank)."""
        out = self.conn.fileno()
        self.conn.before_big_send()
        while length > 0:
            n = os.sendfile(out, fd, offset, length)
            if n == 0:
                break
            offset += n
            length -= n
            self.sent += n
        return length

    def end(self):
        if not self.head_sent:
            self.conn.sendall(self.head())
        elif self.length is not None and self.sent < self.length:
            self.server.log('%s %s: the app sent %d of the %d bytes its Content-Length declared; closing the '
                            'connection' % (self.env.get('REQUEST_METHOD'), self.env.get('REQUEST_URI', ''),
                                            self.sent, self.length))

    def response_invalid(self, reason):
        self.fail(reason)

    def app_raised(self, error):
        if self.head_sent and isinstance(error, (BrokenPipeError, ConnectionResetError)):
            return  # the peer left while the response went out, as a client may: not an app error
        self.fail(traceback.format_exc())

    def fail(self, reason):
        env = self.env
        self.server.log('%s %s failed:\n%s' % (env.get('REQUEST_METHOD', '?'),
                                               env.get('REQUEST_URI') or env.get('PATH_INFO', '?'), reason.rstrip()))
        if self.head_sent:
            return  # the connection is closed mid-response: nginx sees the cut
        self.code = 500
        self.answer('500 Internal Server Error', INTERNAL_ERROR)

    def answer(self, status, text):
        """A plain-text answer in place of the app's (500, or harakiri's 504)."""
        self.head_sent = True
        try:
            self.conn.sendall(plain_response(status, text, self.date, self.head_only))
        except OSError:
            pass
