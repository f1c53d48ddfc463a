"""http-direct: the HTTP listeners the master passed, made ready for the workers to accept on."""

import socket

from .config import BootFailure
from .direct_io import timeval


def open_http_listeners(hcfg):
    """The inherited HTTP listeners, listening and non-blocking: [(socket, index)]."""
    out = []
    spec = None
    try:
        for spec in hcfg['listeners']:
            sock = socket.socket(fileno=spec['fd'])
            sock.set_inheritable(False)
            sock.listen(hcfg['backlog'])
            sock.setblocking(False)
            # Accepted connections inherit the send timeout: a client that stops reading holds a
            # serving thread for socket-timeout at most.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval(hcfg['timeout_ms'] / 1000.0))
            if sock.family != socket.AF_UNIX and hasattr(socket, 'TCP_DEFER_ACCEPT'):
                # A connection surfaces once its first bytes are in (fewer hand-overs of peers
                # that connect first and send later), or after a second: a silent peer then goes
                # to the master, whose http-timeout closes it.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
            out.append((sock, spec['index']))
    except OSError as e:
        raise BootFailure('config', 'cannot use the HTTP listener the master passed (fd %s): %s'
                          % (spec and spec['fd'], e))
    return out

