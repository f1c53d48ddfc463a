"""A uwsgi-direct request whose front offered keep-alive: framed as HTTP/1.1 and marked, so the connection can carry the next packet.

A Berth front puts BERTH_KEEPALIVE = <token> among a packet's vars (src/protocol/uwsgi/
keepalive-marker.ts).  A uwsgi response has no framing of its own, so this backend answers
such a request as the direct HTTP path answers an HTTP/1.1 client (Content-Length, or chunked
when the length is unknown: HttpDirectRequest) and adds `Berth-Keep-Alive: <token>`, the
front's sign that the response is framed and the connection stays open.  An app's own
Berth-Keep-Alive field is dropped, so only this code speaks for the connection.  A front that
did not offer (nginx, a real uWSGI client) gets the one-shot response as before."""

import re

from .http_direct_request import HttpDirectRequest

KEEPALIVE_VAR = 'BERTH_KEEPALIVE'
MARKER_NAME = 'Berth-Keep-Alive'
_MARKER_LOWER = 'berth-keep-alive'
# What a front's token may be: it goes into a response field as it came.
_TOKEN = re.compile(r'[A-Za-z0-9_-]{1,64}\Z')


def offered_token(vars_):
    """Pops the front's offer from the packet's vars: its token, or None (no offer, or one
    that could not go into a field: then the request is answered as if none was made)."""
    token = vars_.pop(KEEPALIVE_VAR, None)
    if token is None or not _TOKEN.match(token):
        return None
    return token


class KeptUwsgiRequest(HttpDirectRequest):
    """HttpDirectRequest for an HTTP/1.1 peer that asked to keep the connection, plus the marker."""

    __slots__ = ('token',)

    def __init__(self, env, server, conn, date, head_only, token):
        HttpDirectRequest.__init__(self, env, server, conn, date, head_only, True, True)
        self.token = token

    def head(self, whole=None):
        headers = self.headers
        for name, _ in headers:
            if name.lower() == _MARKER_LOWER:
                headers = [h for h in headers if h[0].lower() != _MARKER_LOWER]
                break
        self.headers = headers + [(MARKER_NAME, self.token)]
        return HttpDirectRequest.head(self, whole)
