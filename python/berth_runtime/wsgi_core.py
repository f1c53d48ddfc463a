"""The one WSGI core: PEP 3333's call rules, implemented once for every server path.

Theory of operation
-------------------
serve_request(app, req) calls the app and delivers its response through `req`, a request
object of one server path (framed: frames to the master; direct: HTTP bytes on the raw
socket).  The core owns the rules; the request object only says how bytes go out:

  start_response(status, headers, exc_info)   PEP 3333 "The start_response() Callable":
      a second call needs exc_info; with exc_info after the head left, re-raise it
  write(data)                                  bytes only, after start_response
  iterable                                     a list/tuple goes out whole (send_whole), and so
      does a bytes-like return value, as uWSGI sends it;
      a wsgi.file_wrapper over a regular file leaves as a file (send_file); anything else
      streams chunk by chunk (send_body), the head with the first non-empty chunk, end()
  close()                                      called exactly once on the app's iterable,
      whether the response completed, failed or the client left
  failures                                     response_invalid(reason) for a response
      that cannot be sent safely, app_raised(error) for an exception; the worker survives

What a request object provides (the "sink"): send_whole(body) -> bool (False: stream it
instead), send_file(wrapper, plan) -> bool (False: stream it), send_body(data), end(),
response_invalid(reason), app_raised(error), and `server.log` and `server.memory_guard`
(reload-on-rss, checked after every request; None when off).  No closure is made per
request: the sink's methods are looked up on its class.

Harakiri dumps find the frame of serve_request on a thread's stack and read its `req`
(harakiri.py); keep that local's name.
"""

import traceback

from .environ import FileWrapper
from .responses import ResponseAborted, ResponseInvalid, as_bytes, check_headers_slowly, file_plan, joined_body, \
    status_error

BYTES_LIKE = (bytes, bytearray, memoryview)


class CoreRequest(object):
    """Response state every server path shares, and the app's start_response and write.
    Subclasses set every slot in their own __init__ (no chained call on the hot path)."""

    __slots__ = ('id', 'env', 'input', 'server', 'status', 'headers', 'head_sent', 'aborted')

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError('start_response() called twice without exc_info')
        if type(status) is not str or len(status) < 4 or status[3] != ' ' or not status[:3].isdigit():
            raise status_error(status)
        if type(headers) is not list:
            raise check_headers_slowly(headers)
        for item in headers:
            if type(item) is not tuple or len(item) != 2 or type(item[0]) is not str or type(item[1]) is not str:
                problem = check_headers_slowly(headers)
                if problem is not None:
                    raise problem
                break
        self.status = status
        self.headers = headers
        return self.write

    def write(self, data):
        if self.status is None:
            raise RuntimeError('write() called before start_response()')
        if type(data) is not bytes:
            if not isinstance(data, (bytearray, memoryview)):
                raise TypeError('write() argument must be bytes, not %s' % type(data).__name__)
            data = bytes(data)
        if self.aborted:
            raise ResponseAborted('the client went away (request %d aborted)' % self.id)
        if data:
            self.send_body(data)


def serve_request(app, req):
    """Call the app and send its response through `req`; never raises (the worker keeps
    serving)."""
    result = None
    try:
        result = app(req.env, req.start_response)
        if type(result) is not list and type(result) is not tuple and isinstance(result, BYTES_LIKE):
            # uWSGI sends a bytes return whole (unless wsgi-strict); PEP 3333 alone would iterate it into ints
            result = (result,)
        if (type(result) is list or type(result) is tuple) and not req.head_sent:
            body = joined_body(req, result)
            result = None  # a list or tuple has no close()
            if req.send_whole(body):
                return
            result = (body,)
        elif type(result) is FileWrapper and not req.head_sent and req.status is not None:
            plan = file_plan(result, req.headers)
            if plan is not None and req.send_file(result, plan):
                wrapper, result = result, None
                close = getattr(wrapper, 'close', None)
                if close is not None:
                    close()
                req.end()
                return
        streamed, result = result, None
        stream(req, streamed)
    except ResponseInvalid as e:
        req.response_invalid(str(e))
    except BaseException as e:
        # Even SystemExit from app code: a thread must never die without answering.
        req.app_raised(e)
    finally:
        if result is not None:
            close_after_failure(req, result)
        guard = req.server.memory_guard  # reload-on-rss (memory_guard.py), None when off
        if guard is not None:
            guard.after_request()


def stream(req, result):
    """Chunk by chunk (the head goes with the first non-empty one), close(), then end()."""
    try:
        index = 0
        for chunk in result:
            if req.aborted:
                break
            if type(chunk) is not bytes:
                chunk = as_bytes(chunk, index)
            index += 1
            if chunk:
                if req.status is None:
                    raise ResponseInvalid('the app produced body bytes before calling start_response()')
                req.send_body(chunk)
        if req.status is None and not req.aborted:
            raise ResponseInvalid('the app returned without calling start_response()')
    finally:
        close = getattr(result, 'close', None)
        if close is not None:
            close()
    req.end()


def close_after_failure(req, result):
    """close() on an iterable whose response failed before stream() took it over; the
    failure is already answered, so an exception here is only logged."""
    close = getattr(result, 'close', None)
    if close is None:
        return
    try:
        close()
    except BaseException:
        env = req.env
        req.server.log('%s %s: close() raised:\n%s' % (env.get('REQUEST_METHOD', '?'), env.get('REQUEST_URI', ''),
                                                      traceback.format_exc()))
