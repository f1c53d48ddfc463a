"""The harakiri stack dump (SIGUSR2) of every running request.

Each stack is found where the WSGI core runs the request, so that the request path records nothing for it."""

import os
import sys
import threading
import traceback

from .stderr_log import log_safe, write_stderr
from .wsgi_core import serve_request

CORE_CODE = serve_request.__code__


def running_request(stack):
    """The live request whose serve_request() is on this stack (innermost frame first), or
    None.  Each server says whether a request it sees there is still running."""
    while stack is not None:
        if stack.f_code is CORE_CODE:
            req = stack.f_locals.get('req')
            return req if req is not None and req.server.is_running(req) else None
        stack = stack.f_back
    return None


def dump_stacks(interrupted=None):
    """The SIGUSR2 handler's work: every running request's stack to stderr.

    Runs in the main thread; for a request that thread itself runs (threads == 1),
    `interrupted` is the app's frame the signal stopped, so the handler's own frame is not
    shown.  Written with os.write(2), so it cannot collide with a buffered write the signal
    interrupted.  Never raises: the worker is about to be killed, the dump is a bonus."""
    try:
        pid = os.getpid()
        frames = sys._current_frames()
        frames[threading.get_ident()] = interrupted
        names = dict((t.ident, t.name) for t in threading.enumerate())
        out = []
        for ident, stack in frames.items():
            req = running_request(stack)
            if req is None:
                continue
            env = req.env
            out.append('berth worker %d: harakiri: stack of thread %s (%d) running %s %s\n'
                       % (pid, names.get(ident, '?'), ident, log_safe(env.get('REQUEST_METHOD', '?')),
                          log_safe(env.get('REQUEST_URI') or env.get('PATH_INFO', '?'))))
            out.extend(traceback.format_stack(stack))
        if not out:
            out.append('berth worker %d: harakiri: no request is running\n' % pid)
        write_stderr(''.join(out))
    except Exception:
        pass
