"""wsgi.input of framed requests: none (EMPTY_INPUT), or BODY frames as they arrive."""

import collections

from .wire import CREDIT, CREDIT_BATCH_BYTES, frame_u32


class EmptyInput(object):
    """wsgi.input of a request without a body; stateless, so one instance serves all."""

    def read(self, size=-1):
        return b''

    def readline(self, size=-1):
        return b''

    def readlines(self, hint=-1):
        return []

    def __iter__(self):
        return iter(())

    def close(self):
        pass


EMPTY_INPUT = EmptyInput()


class LineReader(object):
    """readlines() and iteration over a stream's readline(), for the wsgi.input classes."""

    __slots__ = ()

    def readlines(self, hint=-1):
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if line:
            return line
        raise StopIteration


class InputStream(LineReader):
    """wsgi.input that streams BODY frames as they arrive and returns b'' after BODY_END.

    The router feeds chunks into a deque; the app's reads move them into a private
    bytearray (bytes moved = bytes consumed, returned to the master as CREDIT in 64 KiB
    batches, so a read(10 MiB) cannot deadlock against the 1 MiB body window)."""

    __slots__ = ('_req', '_chunks', '_done', '_buf', '_uncredited')

    def __init__(self, req):
        self._req = req
        self._chunks = collections.deque()
        self._done = False
        self._buf = bytearray()
        self._uncredited = 0

    # -- fed by the frame router (reader thread or the inline pump)
    def feed(self, data):
        cond = self._req.cond
        if cond is None:
            self._chunks.append(data)
        else:
            with cond:
                self._chunks.append(data)
                cond.notify_all()

    def finish(self):
        cond = self._req.cond
        if cond is None:
            self._done = True
        else:
            with cond:
                self._done = True
                cond.notify_all()

    # -- internals
    def _ready(self):
        return bool(self._chunks) or self._done

    def _fill(self):
        """Move arrived chunks into the buffer, waiting if none; False at end of body."""
        chunks = self._chunks
        if not chunks and not self._done:
            self._req.server.wait(self._req, self._ready)
        if not chunks:
            self.credit()
            return False
        moved = 0
        buf = self._buf
        while chunks:
            chunk = chunks.popleft()
            buf += chunk
            moved += len(chunk)
        self._uncredited += moved
        if self._uncredited >= CREDIT_BATCH_BYTES:
            self.credit()
        return True

    def credit(self):
        if self._uncredited:
            n = self._uncredited
            self._uncredited = 0
            self._req.server.send_parts((frame_u32(self._req.id, CREDIT, n),))

    def _take(self, n):
        buf = self._buf
        data = bytes(buf[:n])
        del buf[:n]
        return data

    # -- PEP 3333 API
    def read(self, size=-1):
        if size is None or size < 0:
            while self._fill():
                pass
            return self._take(len(self._buf))
        while len(self._buf) < size and self._fill():
            pass
        return self._take(size)

    def readline(self, size=-1):
        if size is None:
            size = -1
        start = 0
        while True:
            buf = self._buf
            i = buf.find(b'\n', start)
            if i >= 0 and (size < 0 or i < size):
                return self._take(i + 1)
            if 0 <= size <= len(buf):
                return self._take(size)
            start = len(buf)
            if not self._fill():
                return self._take(len(self._buf))

    def close(self):
        pass

