"""Berth worker: runs one Python WSGI app (PEP 3333) for the Berth master.

Started by the master as ``<python> berth_worker.py`` with:
  fd N (env BERTH_CHANNEL_FD, normally 3)  a connected stream socket to the master
  env BERTH_WORKER_CONFIG                  JSON {"module", "wsgi_file", "callable", "chdir",
                                           "pythonpath", "threads", "processes", "worker_id", "check",
                                           "django_static", "mode", "channel_path", "token", "uid",
                                           "gid", "umask", "py_autoreload", "own_group"}
  stdout / stderr                          pipes the master logs line by line
  fds 4, 5, ... (config "direct" only)    uwsgi sockets the master bound; this process
                                           listens on them and accepts (see DirectServer)

  mode "worker" (default): this process imports the app and serves on fd N (lazy-apps).
  mode "zygote": this process imports the app once, never serves, and forks workers on
  command; each forked worker connects to channel_path (the master's unix stream socket)
  and introduces itself with HELLO {pid, token}.  uid/gid: a name or a number (string or
  int) or null; umask: int or null; py_autoreload: seconds between MODULES checks (0 =
  off); own_group: true when Berth made this process the leader of a new process group.

Wire format (same as src/protocol/worker/frames.ts, which is the reference):

  0        4        8   9
  +--------+--------+---+---------------------+
  | length | req id |typ| payload (length B)  |
  +--------+--------+---+---------------------+
  length, req id: u32 little-endian; typ: u8; payload length excludes the 9-byte header.

  Master -> worker
    0x01 REQUEST   flags:u8, then latin1 "KEY\\0VALUE\\0KEY\\0VALUE" (no trailing NUL);
                   flags bit0 = a body follows in BODY frames ended by BODY_END
    0x02 BODY      raw request-body bytes
    0x03 BODY_END  empty: the request body is complete
    0x04 ABORT     empty: the client went away; stop sending for this id (send END)
    0x05 ACK       u32: this many streamed response-body bytes left the master
    0x06 SHUTDOWN  empty, id 0: finish in-flight requests, then exit 0
    0x07 FILE_OPENED empty: answer to FILE: the master has the body in hand (its own
                   descriptor, or none needed); close() the iterable, then send END
    0x08 FILE_FAILED empty: answer to FILE: the master cannot open it; stream BODY frames
  Worker -> master
    0x81 READY     id 0, JSON {pid, executable, version, threads, sys_path}, plus with
                   django_static and a configured Django: django {static_url, static_root,
                   media_url, media_root, installed_apps_has_admin, debug} or {error}
    0x82 BOOT_FAIL id 0, JSON {kind, message, traceback, executable, sys_path}; then exit
                   (kind: config, chdir, privileges, channel -> exit 3; import, callable -> 4)
    0x83 HEAD      latin1 "200 OK\\0Name\\0Value\\0..." (status, then header pairs)
    0x84 BODY      response-body bytes (counted against the response window)
    0x85 END       empty: the response is complete
    0x86 FULL      headLen:u32, head block (as HEAD), whole body: HEAD+BODY+END in one frame
    0x87 ERROR     utf-8 text: the request failed (no HEAD yet -> master answers 500,
                   otherwise it cuts the connection)
    0x88 CREDIT    u32: the app consumed this many request-body bytes
    0x89 LOG       utf-8 text for the master's log (unused: wsgi.errors goes to stderr)
    0x8A FILE      fd:u32, offset:u64, length:u64, right after HEAD: the body is that range
                   of our descriptor fd (a wsgi.file_wrapper over a regular file); we keep it
                   open and wait for FILE_OPENED / FILE_FAILED (or ABORT)
    0x8B MODULES   id 0, JSON ["/abs/path.py", ...]: every source file of a loaded module
                   (py_autoreload > 0 only; sent after READY, then again whenever the set
                   grew, at most every py_autoreload seconds; each frame lists the whole set)
    0x90 DIRECT    id 0 (config "direct" only): metaLen:u32, JSON {"served": n, "running":
                   [[seconds, method, uri], ...]}, then one record per request the access log
                   keeps (status u16, bytes u64, micros u32, end ms f64, modifier1 u8, vars
                   length u32, the vars block); once a second while anything changed
  Relay (config "direct"): a connection this worker accepted on a uwsgi socket but leaves to
  the master opens a new connection to direct.relay_path with
    0x8F RELAY     id 0, JSON {"token", "listener", "peer", "port", "local", "local_port"},
                   then the bytes read so
                   far; from then on the two connections are pumped into each other

  Zygote channel (fd N of a mode "zygote" process; same frame format)
    master -> zygote  0x09 FORK      id = slot, JSON {"slot": n}: fork one worker (the id is
                                     what counts; the payload is informative)
    master -> zygote  0x06 SHUTDOWN  id 0: SIGTERM the live workers, reap them, exit 0
    zygote -> master  0x81 READY     id 0, as a worker's plus "zygote": true
    zygote -> master  0x82 BOOT_FAIL as a worker's
    zygote -> master  0x8B MODULES   as a worker's (forked workers send one only when their
                                     own set grows past the zygote's)
    zygote -> master  0x8C FORKED    id = slot, JSON {"pid": n}, right after fork(); if
                                     fork() fails, EXITED {"pid": null, ..., "error": text}
    zygote -> master  0x8D EXITED    id = slot, JSON {"pid", "code": int|null,
                                     "signal": "SIGKILL"|null}: a forked worker was reaped
  Forked worker -> master, first frame on its own connection to channel_path
    0x8E HELLO     id = slot, JSON {"pid": n, "token": "..."}; then READY, MODULES...,
                   and the worker protocol above

      master                      zygote (imports the app once)         worker (slot 2)
        |--- spawn, fd 3 ------------>|                                     .
        |<-- READY {zygote: true} ----|                                     .
        |--- FORK id=2 {slot: 2} ---->|--- fork() ------------------------->|
        |<-- FORKED id=2 {pid} -------|                                     |
        |<== connect(channel_path) ==================================== HELLO id=2 {pid, token}
        |<================================================================= READY {pid}
        |== REQUEST / BODY / ... ==========================================>|
        |<-- EXITED id=2 {pid, code, signal} (SIGCHLD, waitpid) ------------x

  The FILE exchange: HEAD, FILE -> the master opens /proc/<our pid>/fd/<fd> and answers
  FILE_OPENED (it then sends the bytes itself and ends the HTTP response; our END only
  frees the request) or FILE_FAILED (we stream the file as BODY frames, then END).

Signals: SIGTERM = finish in-flight requests and exit 0 (zygote: like SHUTDOWN; either
way, if the master is already gone, take the "master gone" path below).  SIGUSR2 =
harakiri stack dump: for every request running in this worker, stderr gets
"berth worker <pid>: harakiri: stack of thread <name> (<ident>) running <METHOD> <URI>"
and that thread's stack; the master SIGKILLs the worker shortly after.  SIGINT is ignored
(a terminal's ^C reaches the master, which decides).  The zygote ignores SIGUSR2.

Exit codes: 0 ok, 2 usage / master broke the protocol, 3 boot failure (channel, chdir,
config, privileges), 4 app import failure (import raised, callable missing), 5 master gone.

Theory of operation
-------------------
Boot: read the config, chdir, build sys.path like uWSGI (pythonpath entries, the
wsgi-file's directory, the working directory), import the module or exec the wsgi-file,
find the callable, send READY.  Any failure sends BOOT_FAIL, prints the same text to
stderr and exits with the code that names the cause, so the master does not respawn in a
loop.

Serving: a FrameReader cuts the byte stream into (id, type, payload) frames; the Server
routes them: REQUEST builds the environ with one split of the latin1 block and queues a
Request; BODY/BODY_END feed that request's InputStream; ACK/ABORT update its response
window.  Two serving strategies share everything else:

  * InlineServer (threads == 1): the main thread recv()s up to 256 KiB, runs every
    complete request in it, collects the outgoing frames in a list and sends them with
    one sendall() per batch.  When the app needs body bytes or the response window is
    full, the waiting code "pumps" the socket itself (flush, recv, route frames), so
    frames for later requests are parked, never lost.
  * ThreadedServer (threads > 1): a reader thread routes frames, T threads take
    requests from a SimpleQueue; sends are combined (the first sender flushes what the
    others queued meanwhile, one sendall for many responses); waits share one Condition.

A list/tuple response (the common case) is joined and sent as ONE FULL frame; anything
else streams as HEAD, BODY..., END, with at most RESPONSE_WINDOW unacknowledged bytes,
so a huge response flows in constant memory.  A wsgi.file_wrapper over a regular file
is not read here at all: HEAD + FILE hand the master our descriptor's number, offset and
length, and the master sends the bytes (see the FILE exchange above).  close() on the
app's iterable is always called, once, before the final frame.  The worker survives any
app exception.

Privileges: after chdir and before sys.path is built and the app imported: umask, then
the group (setgid, then initgroups for the uid's user, or setgroups([gid]) without one),
then the user (setuid).  A name goes through pwd/grp, a number is used as is; a uid
without gid takes the user's primary group.  Any failure is BOOT_FAIL kind "privileges"
naming the option and the fix, exit 3.  The kernel clears PR_SET_PDEATHSIG when the
credentials change, so it is armed again afterwards (and the parent re-checked).

Preload mode (the zygote): boot as above without serving, send READY {"zygote": true},
then wait on the control channel in a single-threaded select() loop that also watches a
self-pipe written for SIGCHLD/SIGTERM (signal.set_wakeup_fd).  FORK: fork(); the parent
answers FORKED; the child returns out of the loop (no zygote frame stays on its stack),
closes the control channel and the self-pipe, restores signal dispositions, re-arms
PR_SET_PDEATHSIG (fork clears it; the zygote is now its parent), connects to
channel_path, sends HELLO and continues exactly like a worker whose import just
finished: the app object already imported is the one it serves, its pages shared
copy-on-write.  CPython's at-fork hooks run in the child (random is re-seeded, logging
and threading locks re-created).  SIGCHLD -> waitpid(pid, WNOHANG) for every forked pid
-> EXITED.  The zygote runs no thread of ours while it forks (the boot watchdog is
stopped first); if the app's import started threads, a warning says fork() is unsafe.

Master death and orphans: the master's death is noticed three ways: EOF on the channel
(recv, a failed send, or a POLLRDHUP watchdog thread while the app runs), SIGTERM
arriving when our parent is no longer the process that started us, and
PR_SET_PDEATHSIG=SIGKILL (the backstop: the kernel kills us even if the app holds the
GIL in C code forever).  Exit code 5.  Apps may start subprocesses that would outlive
us, so when own_group is set and we really lead our process group (getpgrp() ==
getpid(), checked: a wrong flag must never kill the master's group), the first two
paths end with killpg(our group, SIGKILL).  That alone is not enough: the kernel sends
PDEATHSIG microseconds after the dead master's descriptors close, and SIGKILL usually
wins the race against our watchdog (measured: 7 of 10 app subprocesses survived a
SIGKILLed master).  So a group leader also starts a guardian before importing the app:
`sh -c 'read -r line; [ "$line" = q ] || kill -KILL 0'` in our group, its stdin a pipe
whose write end only we hold (close-on-exec, so the app's subprocesses do not get it).
However we die (PDEATHSIG, a crash, the master's harakiri SIGKILL), the pipe closes,
read sees EOF and the guardian SIGKILLs the group; a normal exit writes "q" first, so a
retiring worker's subprocesses are left alone (the master may killpg the group it
created after the exit if it wants them gone too).  Forked workers sit in the zygote's
group and close their copy of the pipe: the zygote's death arms it.  Without own_group
the zygote SIGKILLs its forked workers itself.

py-autoreload (py_autoreload > 0): the source path of every loaded module (__file__,
.pyc mapped back to its .py, minus the standard library but not site-packages inside
it, minus this file) goes to the master in MODULES after READY; a daemon thread rescans
every py_autoreload seconds (a dict lookup per module once its path is known) and sends
the whole list again when it grew.  The master watches the files and reloads.  The
request path is untouched: only once that thread exists does the inline server's
flush take a lock (shared with the thread's sends, so they never interleave).

Harakiri dump: nothing is recorded per request.  The SIGUSR2 handler walks every
thread's stack (for its own thread, the frame the signal interrupted, i.e. the app's
stack without the handler) and, where it finds a Server.run frame, prints that stack
under the request in run's `req`; written with os.write(2) so it cannot collide with a
buffered write the signal interrupted.
"""

import collections
import functools
import gc
import grp
import importlib
import importlib.machinery
import importlib.util
import io
import itertools
import json
import os
import platform
import pwd
import queue
import re
import select
import signal
import socket
import stat
import struct
import sys
import threading
import time
import traceback

# ---------------------------------------------------------------------------- wire

HEADER = struct.Struct('<IIB')
HEADER_U32 = struct.Struct('<IIBI')  # a header whose payload starts with one u32
U32 = struct.Struct('<I')
HEADER_BYTES = 9
MAX_FRAME_BYTES = 64 << 20

REQUEST, BODY_IN, BODY_END, ABORT, ACK, SHUTDOWN = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
FILE_OPENED, FILE_FAILED, FORK = 0x07, 0x08, 0x09
READY, BOOT_FAIL, HEAD, BODY, END, FULL, ERROR, CREDIT, LOG, FILE = range(0x81, 0x8B)
MODULES, FORKED, EXITED, HELLO = range(0x8B, 0x8F)
FILE_FRAME = struct.Struct('<IIBIQQ')  # header, then fd, offset, length
FLAG_HAS_BODY = 0x01

RESPONSE_WINDOW_BYTES = 1 << 20
CREDIT_BATCH_BYTES = 64 << 10
RECV_BYTES = 256 << 10
FLUSH_BYTES = 256 << 10
# Lists larger than this stream in windowed BODY frames (the master caps frames at 64 MiB).
FULL_MAX_BODY_BYTES = 8 << 20
BODY_FRAME_MAX_BYTES = 1 << 20
FILE_WRAPPER_MIN_BLOCK = 64 << 10
# Smaller file bodies are read here: one read() costs less than the FILE round trip.
FILE_MIN_BYTES = 64 << 10
# The master opens our descriptor as /proc/<pid>/fd/<fd>, which only Linux offers.
FILE_FRAMES = sys.platform.startswith('linux')

EXIT_OK, EXIT_USAGE, EXIT_BOOT_FAILURE, EXIT_APP_IMPORT_FAILURE, EXIT_MASTER_GONE = 0, 2, 3, 4, 5
EXIT_FOR_KIND = {'import': 4, 'callable': 4, 'chdir': 3, 'config': 3, 'privileges': 3, 'channel': 3}
SERVER_SOFTWARE = 'Berth'

_chain = itertools.chain.from_iterable


def frame(rid, typ, payload=b''):
    return HEADER.pack(len(payload), rid, typ) + payload


def frame_u32(rid, typ, value):
    return HEADER_U32.pack(4, rid, typ, value)


class ProtocolError(Exception):
    """The master sent bytes that break the wire format (a Berth bug)."""


class FrameReader(object):
    """Cuts a byte stream into (id, type, payload) tuples; keeps a trailing partial frame."""

    __slots__ = ('_parts', '_have', '_need')

    def __init__(self):
        self._parts = []
        self._have = 0
        self._need = 0

    def feed(self, data):
        if self._parts:
            self._parts.append(data)
            self._have += len(data)
            if self._have < self._need:
                return []
            data = b''.join(self._parts)
            self._parts = []
        frames = []
        append = frames.append
        unpack = HEADER.unpack_from
        pos = 0
        end = len(data)
        need = HEADER_BYTES
        while end - pos >= HEADER_BYTES:
            length, rid, typ = unpack(data, pos)
            if length > MAX_FRAME_BYTES:
                raise ProtocolError('frame of %d bytes (type 0x%02x) is over the 64 MiB limit' % (length, typ))
            stop = pos + HEADER_BYTES + length
            if stop > end:
                need = HEADER_BYTES + length
                break
            append((rid, typ, data[pos + HEADER_BYTES:stop]))
            pos = stop
        if pos < end:
            rest = data[pos:] if pos else data
            self._parts = [rest]
            self._have = len(rest)
            self._need = need
        return frames


# ---------------------------------------------------------------------------- environ


class ErrorStream(object):
    """wsgi.errors: text written here reaches stderr, which the master logs line by line."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, text):
        if not isinstance(text, str):
            text = bytes(text).decode('utf-8', 'replace')
        with self._lock:
            self._stream.write(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        self._stream.flush()


class FileWrapper(object):
    """wsgi.file_wrapper: iterates a file-like by read(); close() passes through.

    Blocks are at least 64 KiB whatever the app asks (Django asks 4 KiB): the client
    sees the same bytes in far fewer frames."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = max(int(blksize), FILE_WRAPPER_MIN_BLOCK)
        if hasattr(filelike, 'close'):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


def declared_length(headers):
    """The response's Content-Length as an int, or None when absent or not a number."""
    for name, value in headers:
        if len(name) == 14 and name.lower() == 'content-length':
            value = value.strip()
            return int(value) if value.isdigit() else None
    return None


def file_plan(wrapper, headers):
    """(fd, offset, length) when the master can send this file_wrapper's body itself from
    our descriptor (a binary, readable, regular file of at least FILE_MIN_BYTES from its
    current position, capped by Content-Length), else None: stream it through BODY frames
    (BytesIO, pipes, sockets, text files, no fileno(), non-Linux).  Never raises."""
    f = wrapper.filelike
    if not FILE_FRAMES or isinstance(f, io.TextIOBase):
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


def base_environ(threads, processes, errors):
    return {
        'wsgi.version': (1, 0),
        'wsgi.url_scheme': 'http',
        'wsgi.errors': errors,
        'wsgi.multithread': threads > 1,
        'wsgi.multiprocess': processes > 1,
        'wsgi.run_once': False,
        'wsgi.file_wrapper': FileWrapper,
        'wsgi.input_terminated': True,
        'SERVER_SOFTWARE': SERVER_SOFTWARE,
        'SCRIPT_NAME': '',
    }


def build_environ(base, block):
    """One C-level split of the latin1 "K\\0V\\0..." block, laid over a copy of base."""
    env = base.copy()
    if block:
        parts = block.decode('latin-1').split('\0')
        env.update(zip(parts[0::2], parts[1::2]))
    return env


# ---------------------------------------------------------------------------- wsgi.input


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


# ---------------------------------------------------------------------------- responses


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


class Request(object):
    """One request: environ, response state, streamed-response window."""

    __slots__ = ('id', 'env', 'input', 'server', 'cond', 'status', 'headers', 'head_sent',
                 'aborted', 'unacked', 'file_reply')

    def __init__(self, rid, env, server, cond):
        self.id = rid
        self.env = env
        self.server = server
        self.cond = cond
        self.input = EMPTY_INPUT
        self.status = None
        self.headers = None
        self.head_sent = False
        self.aborted = False
        self.unacked = 0
        self.file_reply = None

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

    def send_body(self, data):
        server = self.server
        if not self.head_sent:
            if self.status is None:
                raise ResponseInvalid('the app produced body bytes before calling start_response()')
            server.send_parts((frame(self.id, HEAD, encode_head(self.status, self.headers)),))
            self.head_sent = True
        if len(data) <= BODY_FRAME_MAX_BYTES:
            self._send_piece(server, data)
            return
        view = memoryview(data)
        for start in range(0, len(data), BODY_FRAME_MAX_BYTES):
            self._send_piece(server, view[start:start + BODY_FRAME_MAX_BYTES])
            if self.aborted:
                return

    def _send_piece(self, server, piece):
        """One BODY frame; blocks while more than the window is unacknowledged."""
        n = len(piece)
        cond = self.cond
        if cond is None:
            self.unacked += n
        else:
            with cond:  # the reader thread subtracts ACKs concurrently
                self.unacked += n
        server.send_stream(HEADER.pack(n, self.id, BODY), piece)
        if self.unacked > RESPONSE_WINDOW_BYTES and not self.aborted:
            server.wait(self, self._window_open)

    def _window_open(self):
        return self.unacked <= RESPONSE_WINDOW_BYTES or self.aborted

    # -- fed by the frame router
    def ack(self, n):
        cond = self.cond
        if cond is None:
            self.unacked -= n
        else:
            with cond:
                self.unacked -= n
                cond.notify_all()

    def file_answer(self, opened):
        """FILE_OPENED (True) or FILE_FAILED (False) arrived."""
        cond = self.cond
        if cond is None:
            self.file_reply = opened
        else:
            with cond:
                self.file_reply = opened
                cond.notify_all()

    def _file_answered(self):
        return self.file_reply is not None or self.aborted

    def abort(self):
        cond = self.cond
        if cond is None:
            self.aborted = True
        else:
            with cond:
                self.aborted = True
                cond.notify_all()
        if self.input is not EMPTY_INPUT:
            self.input.finish()


# ---------------------------------------------------------------------------- serving


class Receiver(object):
    """sock.recv() without a fresh 256 KiB buffer per call.

    recv(256 KiB) makes glibc map a new buffer, shrink it (mremap) and unmap it: three
    system calls around every read, measured with strace -c on a busy worker.  Reading into
    one reused buffer and copying out the bytes that came costs a small allocation instead.
    """

    __slots__ = ('_buf', '_view', '_recv_into')

    def __init__(self, sock, size=RECV_BYTES):
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        self._recv_into = sock.recv_into

    def __call__(self, flags=0):
        n = self._recv_into(self._buf, 0, flags)
        return self._view[:n].tobytes()


class Server(object):
    """Frame routing and request running shared by the inline and threaded strategies.

    Subclasses provide send_parts(parts), send_stream(header, data), control_sender()
    (a send function for another thread), wait(req, ready), queue_request(req) and
    serve()."""

    def __init__(self, sock, app, base, log, lifeline=None):
        self.sock = sock
        self.app = app
        self.base = base
        self.log = log
        self.lifeline = lifeline if lifeline is not None else Lifeline(os.getppid(), False)
        self.reader = FrameReader()
        self.receive = Receiver(sock)
        self.requests = {}
        self.stopping = False

    def dump_stacks(self, signum=None, interrupted=None):
        """SIGUSR2 handler (harakiri): the stack of every running request to stderr.

        Runs in the main thread; for a request that thread itself runs (threads == 1),
        `interrupted` is the app's frame the signal stopped, so the handler's own frame is
        not shown.  Never raises: the worker is about to be killed, the dump is a bonus."""
        try:
            pid = os.getpid()
            frames = sys._current_frames()
            frames[threading.get_ident()] = interrupted
            names = dict((t.ident, t.name) for t in threading.enumerate())
            out = []
            for ident, stack in frames.items():
                req = self.running_request(stack)
                if req is None:
                    continue
                env = req.env
                out.append('berth worker %d: harakiri: stack of thread %s (%d) running %s %s\n'
                           % (pid, names.get(ident, '?'), ident, env.get('REQUEST_METHOD', '?'),
                              env.get('REQUEST_URI') or env.get('PATH_INFO', '?')))
                out.extend(traceback.format_stack(stack))
            if not out:
                out.append('berth worker %d: harakiri: no request is running\n' % pid)
            write_stderr(''.join(out))
        except Exception:
            pass

    def running_request(self, stack):
        """The live request whose run() is on this stack (innermost frame first), or None:
        found here, by the dump, so that the request path records nothing for it."""
        code = Server.run.__code__
        direct_code = DirectServer.run.__code__
        while stack is not None:
            if stack.f_code is code:
                req = stack.f_locals.get('req')
                return req if req is not None and self.requests.get(req.id) is req else None
            if stack.f_code is direct_code:
                return stack.f_locals.get('req')
            stack = stack.f_back
        return None

    def new_cond(self):
        return None

    def route(self, frames):
        requests = self.requests
        for rid, typ, payload in frames:
            if typ == REQUEST:
                self.accept(rid, payload)
                continue
            req = requests.get(rid)
            if typ == BODY_IN:
                if req is not None:
                    req.input.feed(payload)
            elif typ == BODY_END:
                if req is not None:
                    req.input.finish()
            elif typ == ACK:
                if req is not None:
                    req.ack(U32.unpack_from(payload)[0])
            elif typ == ABORT:
                if req is not None:
                    req.abort()
            elif typ == FILE_OPENED or typ == FILE_FAILED:
                if req is not None:
                    req.file_answer(typ == FILE_OPENED)
            elif typ == SHUTDOWN:
                self.request_stop()
            else:
                raise ProtocolError('unknown frame type 0x%02x (request %d)' % (typ, rid))

    def accept(self, rid, payload):
        if not payload:
            raise ProtocolError('REQUEST frame %d has no flags byte' % rid)
        if self.stopping:
            self.send_parts((frame(rid, ERROR, b'worker is shutting down'),))
            return
        req = Request(rid, build_environ(self.base, payload[1:]), self, self.new_cond())
        if payload[0] & FLAG_HAS_BODY:
            req.input = req.env['wsgi.input'] = InputStream(req)
        else:
            req.env['wsgi.input'] = EMPTY_INPUT
        self.requests[rid] = req
        self.queue_request(req)

    def run(self, req):
        """Call the app and send its response; never raises (the worker keeps serving)."""
        result = None
        try:
            result = self.app(req.env, req.start_response)
            if (type(result) is list or type(result) is tuple) and not req.head_sent:
                body = joined_body(req, result)
                if len(body) <= FULL_MAX_BODY_BYTES:
                    head = encode_head(req.status, req.headers)
                    self.send_parts((HEADER_U32.pack(4 + len(head) + len(body), req.id, FULL, len(head)),
                                     head, body))
                    return
                result = (body,)
            elif type(result) is FileWrapper and not req.head_sent and req.status is not None:
                if self.send_file(req, result):
                    return
            self.stream(req, result)
        except ResponseInvalid as e:
            self.fail(req, str(e), log=True)
        except BaseException:
            # Even SystemExit from app code: a thread must never die without answering.
            self.fail(req, traceback.format_exc(), log=False)
        finally:
            self.finish(req)

    def stream(self, req, result):
        """HEAD when the first non-empty chunk is ready, BODY frames, close(), then END."""
        try:
            index = 0
            for chunk in result:
                if req.aborted:
                    break
                if type(chunk) is not bytes:
                    chunk = as_bytes(chunk, index)
                index += 1
                if chunk:
                    req.send_body(chunk)
            if req.status is None and not req.aborted:
                raise ResponseInvalid('the app returned without calling start_response()')
        finally:
            close = getattr(result, 'close', None)
            if close is not None:
                close()
        if not req.head_sent and not req.aborted:
            self.send_parts((frame(req.id, HEAD, encode_head(req.status, req.headers)),))
            req.head_sent = True
        self.send_parts((frame(req.id, END),))

    def send_file(self, req, wrapper):
        """HEAD + FILE, then wait for the master.  True when the response is done here
        (FILE_OPENED or ABORT: close() called, END sent); False to stream the file instead
        (not a real file, or FILE_FAILED), with close() left to stream()."""
        plan = file_plan(wrapper, req.headers)
        if plan is None:
            return False
        try:
            head = encode_head(req.status, req.headers)
        except ResponseInvalid:
            return False  # stream() reports it, and calls close()
        fd, offset, length = plan
        self.send_parts((frame(req.id, HEAD, head), FILE_FRAME.pack(20, req.id, FILE, fd, offset, length)))
        req.head_sent = True
        self.wait(req, req._file_answered)
        if req.file_reply is False and not req.aborted:
            return False
        close = getattr(wrapper, 'close', None)
        if close is not None:
            close()
        self.send_parts((frame(req.id, END),))
        return True

    def fail(self, req, reason, log):
        if req.aborted:
            self.send_parts((frame(req.id, END),))
            return
        if log:
            self.log('request %d %s %s: %s' % (req.id, req.env.get('REQUEST_METHOD', '?'),
                                               req.env.get('PATH_INFO', '?'), reason))
        self.send_parts((frame(req.id, ERROR, reason.encode('utf-8', 'replace')),))

    def finish(self, req):
        self.requests.pop(req.id, None)
        if req.input is not EMPTY_INPUT:
            req.input.credit()

    def request_stop(self):
        self.stopping = True


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave an idle recv() in the inline loop."""


class InlineServer(Server):
    """threads == 1: one thread reads, runs and writes; outgoing frames leave in batches."""

    def __init__(self, sock, app, base, log, lifeline=None):
        Server.__init__(self, sock, app, base, log, lifeline)
        self.out = []
        self.ready = collections.deque()
        self.idle = False

    def queue_request(self, req):
        self.ready.append(req)

    def send_parts(self, parts):
        self.out.extend(parts)
        if len(parts[-1]) > FLUSH_BYTES:
            self.flush()  # a big body leaves now instead of piling up behind a batch

    def send_stream(self, header, data):
        self.out.append(header)
        self.out.append(data)
        self.flush()
        self.pump(block=False)

    def flush(self):
        out = self.out
        if out:
            data = b''.join(out) if len(out) > 1 else out[0]
            del out[:]
            try:
                self.sock.sendall(data)
            except OSError:
                self.lifeline.gone()

    def control_sender(self):
        """send(data) for another thread (the MODULES reporter).  From now on flush() and
        send() share a lock, so their sendall()s never interleave; a worker that never
        calls this takes no lock on the request path."""
        lock = threading.Lock()
        flush = self.flush
        sock = self.sock
        lifeline = self.lifeline

        def locked_flush():
            with lock:
                flush()

        def send(data):
            try:
                with lock:
                    sock.sendall(data)
            except OSError:
                lifeline.gone()

        self.flush = locked_flush  # every caller looks it up on self
        return send

    def pump(self, block=True):
        """Flush, then read and route whatever frames the master has sent."""
        self.flush()
        try:
            if block:
                data = self.receive()
            else:
                data = self.receive(socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.lifeline.gone()
        if not data:
            self.lifeline.gone()
        try:
            self.route(self.reader.feed(data))
        except ProtocolError as e:
            self.log('protocol error from the master: %s' % e)
            os._exit(EXIT_USAGE)

    def wait(self, req, ready):
        while not ready():
            self.pump()

    def request_stop(self):
        self.stopping = True
        if self.idle:
            raise _Stop()

    def serve(self):
        ready = self.ready
        run = self.run
        recv = self.receive
        feed = self.reader.feed
        route = self.route
        try:
            while True:
                while ready:
                    run(ready.popleft())
                self.flush()
                if self.stopping:
                    return
                self.idle = True
                try:
                    data = recv()
                finally:
                    self.idle = False
                if not data:
                    self.lifeline.gone()
                route(feed(data))
        except _Stop:
            self.flush()
        except OSError:
            self.lifeline.gone()


class ThreadedServer(Server):
    """threads > 1: a reader thread routes frames, T threads run requests, sends are combined."""

    def __init__(self, sock, app, base, log, threads, lifeline=None):
        Server.__init__(self, sock, app, base, log, lifeline)
        self.threads = threads
        self.queue = queue.SimpleQueue()
        self.done = threading.Event()
        # One Condition for every wait (body bytes, window): waits are rare, so a shared
        # one beats allocating a Condition per request.
        self.cond = threading.Condition(threading.Lock())
        self.out = []
        self.out_lock = threading.Lock()
        self.flushing = False
        # With direct serving: the app calls of both servers share `threads` permits, and a
        # SHUTDOWN from the master must also stop the accept loop in the main thread.
        self.gate = None
        self.on_stop = None

    def new_cond(self):
        return self.cond

    def queue_request(self, req):
        self.queue.put(req)

    def send_parts(self, parts):
        """Combining writer: the first thread to find no flush running sends everything
        queued (its own frames and those other threads add meanwhile) until the list is
        empty; the others only append. Under load N responses leave in one sendall."""
        lock = self.out_lock
        with lock:
            self.out.extend(parts)
            if self.flushing:
                return
            self.flushing = True
        try:
            while True:
                with lock:
                    out = self.out
                    if not out:
                        self.flushing = False
                        return
                    self.out = []
                self.sock.sendall(b''.join(out) if len(out) > 1 else out[0])
        except OSError:
            self.lifeline.gone()

    def send_stream(self, header, data):
        self.send_parts((header, data))

    def control_sender(self):
        """The combining writer is safe from any thread already."""
        return lambda data: self.send_parts((data,))

    def wait(self, req, ready):
        with req.cond:
            while not ready():
                req.cond.wait()

    def request_stop(self):
        self.stopping = True
        if not self.requests:
            self.done.set()
        if self.on_stop is not None:
            self.on_stop()

    def finish(self, req):
        Server.finish(self, req)
        if self.stopping and not self.requests:
            self.done.set()

    def read_loop(self):
        recv = self.receive
        try:
            while True:
                data = recv()
                if not data:
                    break
                self.route(self.reader.feed(data))
        except ProtocolError as e:
            self.log('protocol error from the master: %s' % e)
            os._exit(EXIT_USAGE)
        except OSError:
            pass
        self.lifeline.gone()

    def work_loop(self):
        get = self.queue.get
        run = self.run
        gate = self.gate
        while True:
            req = get()
            if gate is None:
                run(req)
            else:
                with gate:
                    run(req)

    def serve(self):
        for i in range(self.threads):
            HelperThread(self.work_loop, 'berth-thread-%d' % i).start()
        HelperThread(self.read_loop, 'berth-reader').start()
        self.wait_done()

    def wait_done(self):
        """In the main thread: until stopped with nothing running, then every frame sent."""
        while not self.done.wait(SIGNAL_CHECK_S):
            run_signal_handlers()
        self.drain()

    def drain(self):
        """Wait until another thread's flush has sent every queued frame."""
        while True:
            with self.out_lock:
                if not self.flushing and not self.out:
                    return
            time.sleep(0.001)


# ---------------------------------------------------------------------------- direct uwsgi
#
# Behind nginx, the uwsgi protocol carries one request per connection, so a hop through the
# master costs a connection set-up, two reads, two writes and two wake-ups per request.  With
# direct serving (config "direct") the master binds each uwsgi socket and hands it to the
# workers, which accept on it as uWSGI's workers do and answer nginx themselves.  The master
# still sees everything it must: a connection this code does not serve as a plain WSGI request
# from a local peer (HTTP or TLS on the socket port, another modifier1, a malformed or
# oversized packet, a peer outside loopback, a body over limit-post) is relayed to the
# master's channel socket with the bytes already read (RELAY frame), and the master's front
# door handles it as if it had accepted it.  Served requests reach the master in DIRECT
# frames, once a second or every DIRECT_LOG_BATCH records: the running requests (harakiri),
# the served count (max-requests) and, for the requests its access log keeps, one record each.

UWSGI_PACKET_HEAD = struct.Struct('<BHB')
RELAY, DIRECT = 0x8F, 0x90
# status u16, bytes sent u64, duration micros u32, end (wall clock ms) f64, modifier1 u8,
# vars block length u32; then the vars block exactly as the peer sent it.
DIRECT_RECORD = struct.Struct('<HQIdBI')
HOP_BY_HOP = frozenset(('connection', 'keep-alive', 'proxy-connection', 'transfer-encoding',
                        'upgrade', 'te', 'trailer'))
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
HEADER_VALUE_BAD = re.compile(r'[\x00-\x08\x0a-\x1f\x7f]')
DIGITS = re.compile(r'[0-9]{1,16}\Z')
DIRECT_REPORT_S = 1.0
# How often an idle accept() returns to look for a stop (SO_RCVTIMEO of the listening socket,
# which accepted connections inherit: RawConn.recv waits on up to the socket timeout).
ACCEPT_POLL_S = 0.25
# How often an idle main thread runs handlers a lost wake-up left waiting (run_signal_handlers).
SIGNAL_CHECK_S = 0.25
DIRECT_LOG_BATCH = 128
# An app that left part of the body unread: read the rest (up to this much) before closing,
# since closing with unread bytes sends a reset that can destroy the response in flight.
DRAIN_MAX_BYTES = 1 << 20
# Relayed connections (each a thread) one worker carries at once.
MAX_RELAYS = 64
# How long an exiting worker waits for its relays (the master kills it after its mercy anyway).
RELAY_EXIT_WAIT_S = 30.0
MAX_SAFE_INTEGER = (1 << 53) - 1
INTERNAL_ERROR = b'Internal Server Error: the application raised an exception; see the server log.\n'


def is_loopback(addr):
    return addr.startswith('127.') or addr == '::1' or addr.startswith('::ffff:127.')


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
NAME_PLAIN, NAME_HOP, NAME_LENGTH, NAME_DATE = range(4)


def name_kind(name):
    kind = _NAME_KIND.get(name)
    if kind is None:
        if type(name) is not str or not HEADER_NAME.match(name):
            raise ResponseInvalid('header name %r is not a token (RFC 9110 section 5.1)' % (name,))
        lower = name.lower()
        kind = (NAME_HOP if lower in HOP_BY_HOP else NAME_LENGTH if lower == 'content-length'
                else NAME_DATE if lower == 'date' else NAME_PLAIN)
        if len(_NAME_KIND) < 1024:
            _NAME_KIND[name] = kind
    return kind


def http_head(status, headers, date, whole=None):
    """(the latin1 HTTP/1.1 head, Content-Length or None) for a direct response, checked as the
    master checks a worker's head (src/protocol/http1/response.ts); ResponseInvalid if bad.
    `whole`: the length of a body known in full, declared when the app did not (sendFull).
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
    dropped = None  # hop-by-hop values: not sent, but checked like the rest
    kinds = _NAME_KIND
    for name, value in headers:
        kind = kinds.get(name)
        if kind is None:
            kind = name_kind(name)
        if kind != NAME_PLAIN:
            if kind == NAME_HOP:
                dropped = (dropped or '') + value
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
    if length is None and whole is not None and code != 204 and code != 304:
        length = whole
        lines.append('Content-Length: %d' % whole)
    if not has_date:
        lines.append('Date: ' + date())
    lines.append('Connection: close\r\n\r\n')
    try:
        if dropped is not None:
            dropped.encode('latin-1')  # not sent, but the master refuses it as it refuses the rest
        return '\r\n'.join(lines).encode('latin-1'), length
    except UnicodeEncodeError:
        raise ResponseInvalid(describe_bad_head(status, headers))


def plain_response(status, text, date, head_only=False):
    body = b'' if head_only else text
    return ('HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n'
            'Date: %s\r\nConnection: close\r\n\r\n' % (status, len(text), date())).encode('latin-1') + body


def _setsockopt_fd():
    """setsockopt() on a bare descriptor through libc (a socket object costs a getsockname()).
    No argtypes and no errno capture: ctypes passes ints and a bytes buffer as they are, at
    about half the cost per call (the result is not looked at: see timed())."""
    try:
        import ctypes
        import ctypes.util
        return ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6').setsockopt
    except Exception:
        return None


_SETSOCKOPT = None
_TIMEVALS = (b'', b'')
SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO = socket.SOL_SOCKET, socket.SO_RCVTIMEO, socket.SO_SNDTIMEO


def timed(fd, option=SO_RCVTIMEO):
    """Gives an accepted unix-socket connection a timeout a TCP one inherits from the listening
    socket (Linux copies them for TCP only), so a local peer that stalls cannot hold a thread
    past the socket timeout.  The read timeout is set at once; the send timeout only before a
    response too big for the socket buffer to take whole (RawConn.sendall), saving a system call
    on every ordinary request.  (It cannot fail on a descriptor accept() just returned.)"""
    value = _TIMEVALS[0 if option == SO_RCVTIMEO else 1]
    if _SETSOCKOPT is not None:
        _SETSOCKOPT(fd, SOL_SOCKET, option, value, len(value))
        return
    s = socket.socket(fileno=fd)
    s.setsockopt(SOL_SOCKET, option, value)
    s.detach()


class RawConn(object):
    """An accepted connection as a bare descriptor.  Wrapping it in a socket object costs a
    getsockname() per request (CPython checks that the descriptor is a socket); a relayed
    connection, the rare case, gets its socket object then."""

    __slots__ = ('fd', 'send_untimed')
    # socket-timeout: how long a read may wait for the peer (set once from the config).
    timeout_s = 4.0
    # Below this a send completes at once into the socket buffer, whatever the peer does.
    SMALL_SEND = 65536

    def __init__(self, fd, unix=False):
        self.fd = fd
        self.send_untimed = unix

    def before_big_send(self):
        if self.send_untimed:
            self.send_untimed = False
            timed(self.fd, SO_SNDTIMEO)

    def fileno(self):
        return self.fd

    def recv(self, n):
        try:
            return os.read(self.fd, n)
        except BlockingIOError:
            # Each read gives up after ACCEPT_POLL_S (inherited SO_RCVTIMEO): wait on up to timeout_s.
            deadline = time.monotonic() + RawConn.timeout_s - ACCEPT_POLL_S
            while True:
                try:
                    return os.read(self.fd, n)
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise socket.timeout('no bytes from the peer for %g s (socket-timeout)' % RawConn.timeout_s)

    def sendall(self, data):
        fd = self.fd
        if len(data) > RawConn.SMALL_SEND and self.send_untimed:
            self.before_big_send()
        n = os.write(fd, data)
        if n < len(data):
            view = memoryview(data)
            while n < len(view):
                n += os.write(fd, view[n:])

    def close(self):
        """Once: a descriptor number closed twice may already be another connection's."""
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


class Gate(object):
    """At most n holders.  threading.Semaphore is Python code (a Condition around a counter);
    a C lock (n == 1) or a C queue of n tokens costs a fraction of it on every request."""

    __slots__ = ('acquire', 'release')

    def __init__(self, n):
        if n == 1:
            lock = threading.Lock()
            self.acquire, self.release = lock.acquire, lock.release
        else:
            tokens = queue.SimpleQueue()
            for _ in range(n):
                tokens.put(None)
            self.acquire, self.release = tokens.get, functools.partial(tokens.put, None)

    def __enter__(self):
        self.acquire()

    def __exit__(self, *exc):
        self.release()


class DirectInput(LineReader):
    """wsgi.input of a direct request: the body bytes that came with the vars, then the
    connection, never past CONTENT_LENGTH.  A peer that closes early gives a short read."""

    __slots__ = ('_conn', '_buf', '_pos', '_left')

    def __init__(self, conn, first, length):
        self._conn = conn
        self._buf = first
        self._pos = 0
        self._left = length - len(first)  # still on the connection

    def _fill(self, want):
        """Until `want` bytes are buffered or the body is exhausted (one join, not one per read)."""
        have = len(self._buf) - self._pos
        if have >= want or self._left <= 0:
            return
        parts = [self._buf[self._pos:]]
        while have < want and self._left > 0:
            chunk = self._conn.recv(min(self._left, max(want - have, 65536)))
            if not chunk:
                self._left = 0
                break
            self._left -= len(chunk)
            have += len(chunk)
            parts.append(chunk)
        self._buf = b''.join(parts)
        self._pos = 0

    def _take(self, n):
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def read(self, size=-1):
        if size is None or size < 0:
            size = len(self._buf) - self._pos + self._left
        self._fill(size)
        return self._take(size)

    def readline(self, size=-1):
        while True:
            nl = self._buf.find(b'\n', self._pos)
            have = len(self._buf) - self._pos
            if nl != -1 or self._left == 0 or (size is not None and 0 <= size <= have):
                end = nl + 1 - self._pos if nl != -1 else have
                if size is not None and 0 <= size < end:
                    end = size
                return self._take(end)
            self._fill(have + 65536)

    def close(self):
        pass

    def drain(self):
        """Reads what the app left unread (bounded), so closing sends FIN, not a reset."""
        left = self._left
        if left <= 0 or left > DRAIN_MAX_BYTES:
            return
        try:
            while left > 0:
                chunk = self._conn.recv(min(left, 65536))
                if not chunk:
                    return
                left -= len(chunk)
        except OSError:
            pass
        self._left = 0


class DirectRequest(Request):
    """A request read from a direct connection: the response is written to it as HTTP."""

    __slots__ = ('conn', 'date', 'sent', 'length', 'head_only', 'code')

    def __init__(self, env, server, conn, date, head_only):
        Request.__init__(self, 0, env, server, None)
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


def batch_scheduling():
    """Puts the calling thread under SCHED_BATCH (uwsgi-direct-batch), for the threads that
    accept on the uwsgi sockets.  nginx connects, then writes the request: the connect wakes
    the worker blocked in accept(), and a normal thread woken so preempts nginx on its CPU
    only to find no bytes yet and sleep again, twice per request.  A batch thread does not
    preempt at wake-up; it runs when a CPU is free or nginx yields, with the request there.
    Same priority (nice) as before, no privilege needed; threads it starts inherit it.
    Returns why it could not (not Linux, or refused, as a seccomp filter may), else None: the
    thread then keeps the normal policy and serves as before."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        return None
    except (AttributeError, OSError) as e:
        return str(e) or type(e).__name__


class DirectServer(object):
    """Accepts on the uwsgi sockets the master handed over and serves plain WSGI requests.

    threads == 1: the main thread blocks in accept(), which returns every ACCEPT_POLL_S
    (SO_RCVTIMEO on the listening socket) to look at `stopping`.  No signal handler may raise
    out of accept(): a signal that lands just after accept() returned would lose the accepted
    connection, and the peer would get a reset.  threads > 1: every thread waits in select()
    on the sockets and a wake-up pipe, so a stop reaches them all.  `gate` bounds the app
    calls of this server and of the framed server together to `threads`, so an app that is
    not thread-safe never runs twice."""

    def __init__(self, listeners, app, base, log, dcfg, threads, gate, channel_send):
        self.listeners = listeners  # [(socket, unix, index)]
        self.app = app
        self.base = base
        self.base_without_script_name = dict((k, v) for k, v in base.items() if k != 'SCRIPT_NAME')
        self.log = log
        self.threads = threads
        self.gate = gate
        self.channel_send = channel_send
        self.relay_path = dcfg['relay_path']
        self.token = dcfg['token']
        self.max_vars = min(dcfg['buffer_size'], 65535)
        self.limit_post = dcfg['limit_post']
        self.strip_script_name = dcfg['manage_script_name']
        self.mounts = sorted(set(dcfg['mounts']), key=len, reverse=True)
        self.batch = dcfg['batch']
        self.batch_refused = False
        # static-map / static-from-django mountpoints: requests below them go to the master.
        # Kept without a trailing '/', so the mountpoint '/' is '' and needs no case of its own.
        self.static_prefixes = static_prefixes_of(dcfg.get('static_prefixes', ()))
        self.log_all = dcfg['log_all']
        self.log_4xx = dcfg['log_4xx']
        self.slow_us = dcfg['slow_ms'] * 1000 if dcfg['slow_ms'] > 0 else float('inf')
        self.date = HttpDate()
        self.stopping = False
        self.served = 0
        self.running = {}  # thread ident -> (monotonic start, DirectRequest)
        self.records = []
        self.lock = threading.Lock()  # guards records, served and relays
        self.wake_r, self.wake_w = os.pipe()
        self.acceptors = []
        self.relays = []
        self.reported = ()  # requests the last report listed as running

    # -- accepting

    def serve(self):
        """Runs the accept loops; returns once stopped and every direct request is done."""
        HelperThread(self.report_loop, 'berth-direct-report').start()
        if self.threads == 1 and len(self.listeners) == 1:
            self.accept_blocking(self.listeners[0])
        else:
            for i in range(1, self.threads):
                t = HelperThread(self.accept_selecting, 'berth-direct-%d' % i)
                t.start()
                self.acceptors.append(t)
            self.accept_selecting()
        # Each acceptor finishes the request it is serving, then sees `stopping`.
        for t in self.acceptors:
            t.join()
        self.join_relays(RELAY_EXIT_WAIT_S)
        self.report()

    def accept_blocking(self, listener):
        sock, unix, index = listener
        self.enter_batch()
        accept = sock._accept  # (fd, address): see RawConn
        handle = self.handle
        waiting = [sock, self.wake_r]
        while not self.stopping:
            try:
                fd, peer = accept()
            except BlockingIOError:
                # Idle for ACCEPT_POLL_S: look at `stopping`.  (If a generation with threads > 1
                # made the shared socket non-blocking, EAGAIN comes at once: select, not spin.)
                select.select(waiting, [], [], ACCEPT_POLL_S)
                run_signal_handlers()
                continue
            except OSError as e:
                self.accept_failed(e)
                continue
            if unix:
                timed(fd)
            handle(RawConn(fd, unix), peer, unix, index)

    def accept_selecting(self):
        self.enter_batch()
        socks = [l[0] for l in self.listeners]
        by_sock = dict((l[0], l) for l in self.listeners)
        waiting = socks + [self.wake_r]
        while not self.stopping:
            readable = select.select(waiting, [], [], ACCEPT_POLL_S)[0]
            if not readable:
                run_signal_handlers()
            for s in readable:
                if s is self.wake_r or self.stopping:
                    continue
                try:
                    fd, peer = s._accept()
                except (BlockingIOError, InterruptedError):
                    continue  # another worker took it
                except OSError as e:
                    self.accept_failed(e)
                    continue
                _, unix, index = by_sock[s]
                if unix:
                    timed(fd)
                self.handle(RawConn(fd, unix), peer, unix, index)

    def enter_batch(self):
        """uwsgi-direct-batch for the calling accept thread; a refusal is said once per worker."""
        if not self.batch:
            return
        why = batch_scheduling()
        if why is not None:
            with self.lock:
                said, self.batch_refused = self.batch_refused, True
            if not said:
                self.log('uwsgi-direct-batch: cannot use SCHED_BATCH here (%s); the threads that accept '
                         'keep the normal policy (set uwsgi-direct-batch = false to stop trying)' % why)

    def accept_failed(self, error):
        """EMFILE, ENOBUFS…: the connection waits in the queue; say so and pause, do not die."""
        self.log('accepting on a uwsgi socket failed: %s; retrying in %g s' % (error, ACCEPT_POLL_S))
        time.sleep(ACCEPT_POLL_S)

    def request_stop(self):
        """SIGTERM / SHUTDOWN: stop accepting; requests under way finish."""
        self.stopping = True
        try:
            os.write(self.wake_w, b'x')
        except OSError:
            pass

    # -- one connection

    def handle(self, conn, peer, unix, index):
        try:
            self.serve_connection(conn, peer, unix, index)
        except Exception:
            self.log('direct connection on socket %d failed: %s' % (index, traceback.format_exc()))
            try:
                conn.close()
            except OSError:
                pass

    def serve_connection(self, conn, peer, unix, index):
        try:
            # 64 KiB stays below glibc's mmap threshold; a bigger packet is read on below.
            data = conn.recv(65536)
        except OSError:
            conn.close()
            return
        if not data:
            conn.close()  # a probe that connected and left
            return
        peer_host, peer_port = (peer[0], peer[1]) if not unix and isinstance(peer, tuple) else ('', 0)
        # A plain WSGI packet from a local peer is served here; everything else is the master's.
        if (data[0] not in (0, 30) or (not unix and not is_loopback(peer_host))):
            return self.relay(conn, data, index, peer_host, peer_port)
        while len(data) < 4:
            try:
                more = conn.recv(4 - len(data))
            except OSError:
                more = b''
            if not more:
                return self.relay(conn, data, index, peer_host, peer_port)
            data += more
        modifier1, size, modifier2 = UWSGI_PACKET_HEAD.unpack_from(data)
        if size > self.max_vars or modifier2 != 0:
            return self.relay(conn, data, index, peer_host, peer_port)
        while len(data) < 4 + size:
            try:
                more = conn.recv(4 + size - len(data))
            except OSError:
                more = b''
            if not more:
                return self.relay(conn, data, index, peer_host, peer_port)
            data += more
        vars_ = parse_uwsgi_vars(data, 4, 4 + size, self.base_without_script_name.copy())
        if vars_ is None:
            return self.relay(conn, data, index, peer_host, peer_port)
        length = packet_content_length(vars_)
        if length is None:
            return self.relay(conn, data, index, peer_host, peer_port)
        if (self.limit_post and length > self.limit_post) or len(data) > 4 + size + length:
            return self.relay(conn, data, index, peer_host, peer_port)
        if self.static_prefixes is not None and for_static_stage(self.static_prefixes, vars_):
            return self.relay(conn, data, index, peer_host, peer_port)
        self.run(conn, data, size, modifier1, vars_, length)

    def relay(self, conn, data, index, peer_host, peer_port):
        """Hands the connection to the master: RELAY, the bytes read, then both ways until closed.
        Each relay is a thread; past MAX_RELAYS at once the connection is closed (and logged)."""
        with self.lock:
            self.relays = [t for t in self.relays if t.is_alive()]
            full = len(self.relays) >= MAX_RELAYS
            if not full:
                t = HelperThread(relay_connection, 'berth-relay',
                                 args=(conn, data, self.relay_path, self.token, index, peer_host, peer_port, self.log))
                self.relays.append(t)
        if full:
            self.log('%d connections are already relayed to the master; closed one from %s'
                     % (MAX_RELAYS, peer_host or 'a unix-socket peer'))
            conn.close()
            return
        t.start()

    def join_relays(self, timeout):
        """At exit: relayed conversations under way finish (the master's mercy bounds the wait)."""
        deadline = time.monotonic() + timeout
        for t in list(self.relays):
            t.join(max(0.0, deadline - time.monotonic()))

    def environ(self, env, modifier1, length):
        """Completes the environ parse_uwsgi_vars laid over the base (see uwsgi-environ.ts)."""
        pop = env.pop
        had_length = pop('CONTENT_LENGTH', None) is not None
        pop('HTTP_TRANSFER_ENCODING', None)
        pop('HTTP_CONTENT_LENGTH', None)
        scheme = pop('UWSGI_SCHEME', None)
        if scheme is None:
            https = env.get('HTTPS', '')
            scheme = 'https' if https.lower() == 'on' or https == '1' else env.get('REQUEST_SCHEME')
        env['wsgi.url_scheme'] = 'https' if scheme == 'https' else 'http'
        script_name = pop('SCRIPT_NAME', None)  # the base has none: only the peer's counts
        if script_name is None:
            script_name = env.get('UWSGI_SCRIPT_NAME', '')
        path_info = env.get('PATH_INFO', '')
        if self.mounts:
            full = script_name + path_info
            script_name, path_info = '', full
            for p in self.mounts:
                if full.startswith(p) and (len(full) == len(p) or full[len(p)] == '/'):
                    script_name, path_info = p, full[len(p):]
                    break
        elif (modifier1 == 30 or self.strip_script_name) and script_name and path_info.startswith(script_name):
            path_info = path_info[len(script_name):]
        env['SCRIPT_NAME'] = script_name
        env['PATH_INFO'] = path_info
        if length > 0 or had_length:
            env['CONTENT_LENGTH'] = str(length)
        if 'REQUEST_METHOD' not in env:
            env['REQUEST_METHOD'] = 'GET'
        if 'QUERY_STRING' not in env:
            env['QUERY_STRING'] = ''
        return env

    def run(self, conn, data, size, modifier1, vars_, length):
        started = time.monotonic()
        env = self.environ(vars_, modifier1, length)
        method = env['REQUEST_METHOD']
        body_in = DirectInput(conn, data[4 + size:], length) if length > 0 else None
        env['wsgi.input'] = body_in if body_in is not None else EMPTY_INPUT
        req = DirectRequest(env, self, conn, self.date, method == 'HEAD')
        ident = threading.get_ident()
        self.running[ident] = (started, req)
        result = None
        gate = self.gate
        gate.acquire()
        try:
            try:
                result = self.app(env, req.start_response)
                if (type(result) is list or type(result) is tuple) and not req.head_sent:
                    body = joined_body(req, result)
                    # A whole body: framed by its length, as the master frames it (sendFull).
                    head = req.head(len(body))
                    req.send_body(body, head)
                elif type(result) is FileWrapper and not req.head_sent and req.status is not None \
                        and self.send_file(req, result):
                    result = None  # send_file closed it
                else:
                    streamed, result = result, None
                    self.stream(req, streamed)  # closes it, also when it raises
            except ResponseInvalid as e:
                self.fail(req, str(e))
            except (BrokenPipeError, ConnectionResetError):
                if not req.head_sent:
                    self.fail(req, traceback.format_exc())
                # else: the peer left while the response went out, as a client may: not an app error
            except BaseException:
                self.fail(req, traceback.format_exc())
            finally:
                if result is not None:
                    close = getattr(result, 'close', None)
                    if close is not None:
                        try:
                            close()
                        except BaseException:
                            self.log('%s %s: close() raised:\n%s' % (method, env.get('REQUEST_URI', ''),
                                                                  traceback.format_exc()))
        finally:
            gate.release()
            self.running.pop(ident, None)
        if body_in is not None:
            body_in.drain()
        try:
            conn.close()
        except OSError:
            pass
        micros = int((time.monotonic() - started) * 1e6)
        status = req.code if req.head_sent else 0
        if self.threads == 1:
            self.served += 1  # the only writer; the report thread only reads it
        else:
            with self.lock:
                self.served += 1
        if req in self.reported:
            self.report()  # the master believes it still runs (harakiri): correct that now
        if self.log_all or status >= 500 or (self.log_4xx and 400 <= status < 500) or micros >= self.slow_us:
            block = data[4:4 + size]
            record = DIRECT_RECORD.pack(status, req.sent, min(micros, 0xFFFFFFFF), time.time() * 1000.0,
                                        modifier1, len(block)) + block
            with self.lock:
                self.records.append(record)
                full = len(self.records) >= DIRECT_LOG_BATCH
            if full:
                self.report()

    def stream(self, req, result):
        try:
            index = 0
            for chunk in result:
                if type(chunk) is not bytes:
                    chunk = as_bytes(chunk, index)
                index += 1
                if chunk:
                    req.send_body(chunk)
            if req.status is None:
                raise ResponseInvalid('the app returned without calling start_response()')
        finally:
            close = getattr(result, 'close', None)
            if close is not None:
                close()
        if not req.head_sent:
            req.conn.sendall(req.head())
        elif req.length is not None and req.sent < req.length:
            self.log('%s %s: the app sent %d of the %d bytes its Content-Length declared; closing the connection'
                     % (req.env.get('REQUEST_METHOD'), req.env.get('REQUEST_URI', ''), req.sent, req.length))

    def send_file(self, req, wrapper):
        """A file_wrapper over a regular file: the head, then os.sendfile(); False to stream it."""
        plan = file_plan(wrapper, req.headers)
        if plan is None:
            return False
        fd, offset, length = plan
        try:
            head = req.head()
        except ResponseInvalid:
            return False  # stream() reports it and closes
        req.conn.sendall(head)
        if req.length is not None:
            length = min(length, req.length)
        out = req.conn.fileno()
        req.conn.before_big_send()
        while length > 0:
            n = os.sendfile(out, fd, offset, length)
            if n == 0:
                break
            offset += n
            length -= n
            req.sent += n
        close = getattr(wrapper, 'close', None)
        if close is not None:
            close()
        return True

    def fail(self, req, reason):
        env = req.env
        self.log('%s %s failed:\n%s' % (env.get('REQUEST_METHOD', '?'), env.get('REQUEST_URI') or env.get('PATH_INFO', '?'),
                                        reason.rstrip()))
        if req.head_sent:
            return  # the connection is closed mid-response: nginx sees the cut
        req.head_sent = True
        req.code = 500
        try:
            req.conn.sendall(plain_response('500 Internal Server Error', INTERNAL_ERROR, self.date,
                                            req.head_only))
        except OSError:
            pass

    # -- telling the master

    def report_loop(self):
        last = None
        while True:
            time.sleep(DIRECT_REPORT_S)
            state = (self.served, len(self.records), tuple(self.running))
            if state != last or self.running:
                self.report()
                last = state

    def report(self):
        """One DIRECT frame: {served, running: [[seconds, method, uri], ...]} and the records."""
        now = time.monotonic()
        running = []
        current = list(self.running.values())
        self.reported = tuple(req for _, req in current)
        for started, req in current:
            env = req.env
            running.append([now - started, env.get('REQUEST_METHOD', ''), env.get('REQUEST_URI') or env.get('PATH_INFO', '')])
        with self.lock:
            records, self.records = self.records, []
            served = self.served
        meta = json.dumps({'served': served, 'running': running}).encode('utf-8')
        payload = U32.pack(len(meta)) + meta + b''.join(records)
        self.channel_send(frame(0, DIRECT, payload))

    def timeout_answers(self):
        """Harakiri (SIGUSR2): a 504 for each running request whose head is not out yet, since
        the master, which answers 504 for the requests it routes, never saw these."""
        for started, req in list(self.running.values()):
            if req.head_sent:
                continue
            req.head_sent = True
            try:
                req.conn.sendall(plain_response('504 Gateway Timeout', b'Gateway Timeout: the request ran longer than harakiri.\n',
                                                self.date, req.head_only))
            except OSError:
                pass


def static_prefixes_of(mountpoints):
    """The static-map / static-from-django mountpoints as for_static_stage tests them: without a
    trailing '/', so the mountpoint '/' is '' and needs no case of its own; None for none."""
    return tuple(set(p.rstrip('/') for p in mountpoints)) or None


def for_static_stage(prefixes, vars_):
    """Whether the master's static stage may answer this request (static-map,
    static-from-django), so the direct path relays it: a GET or HEAD whose REQUEST_URI path is
    a mountpoint or below one.  The master matches decoded segments; anything this plain
    prefix test could misjudge (a %-escape, an empty or dot segment, a backslash, a non-ASCII
    character the master reads as UTF-8, no REQUEST_URI at all) goes to the master too, which
    falls through to the app when no file is there."""
    method = vars_.get('REQUEST_METHOD', 'GET')
    if method != 'GET' and method != 'HEAD':
        return False
    target = vars_.get('REQUEST_URI')
    if target is None:
        return True
    q = target.find('?')
    path = target if q == -1 else target[:q]
    if path[:1] != '/' or '%' in path or '//' in path or '/.' in path or '\\' in path or not path.isascii():
        return True
    for prefix in prefixes:
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == '/'):
            return True
    return False


def parse_uwsgi_vars(data, start, end, out):
    """The vars of data[start:end] laid over `out` (peer keys starting with wsgi. are dropped),
    or None when the block is not what the master's parser accepts (a length past the end, an
    empty key, a NUL): then the master decides.

    The hottest loop of a direct request, so a pair costs two index reads per length and two
    slices of the block decoded once.  The checks come after the loop, once for the block:
    - a length past the end raises IndexError mid-pair or leaves the end overshot;
    - a repeated key shows as fewer bytes in the dict than in the block (the earlier pair is
      missing whole), and such a block takes the careful loop;
    - NULs are looked for in the keys and the values joined, one C-level scan each."""
    block = data[start:end]
    text = block.decode('latin-1')
    n = end - start
    pairs = {}
    i = 0
    try:
        while True:
            j = i + 2 + (block[i] | block[i + 1] << 8)
            key = text[i + 2:j]
            i = j + 2 + (block[j] | block[j + 1] << 8)
            pairs[key] = text[j + 2:i]
    except IndexError:
        pass  # at the end (i == n) or in a truncated pair
    if i != n or '' in pairs:
        return None
    keys = ''.join(pairs)
    values = ''.join(pairs.values())
    if len(keys) + len(values) + 4 * len(pairs) != n:
        return parse_uwsgi_vars_carefully(block, text, out)
    if '\0' in keys or '\0' in values:
        return None
    if 'wsgi.' in keys:
        for key in [k for k in pairs if k.startswith('wsgi.')]:
            del pairs[key]
    out.update(pairs)
    return out


def parse_uwsgi_vars_carefully(block, text, out):
    """parse_uwsgi_vars pair by pair: a repeated key is allowed (the last wins) unless it is a
    CONTENT_LENGTH that disagrees."""
    n = len(block)
    seen_length = None
    i = 0
    while i < n:
        if n - i < 4:
            return None
        klen = block[i] | block[i + 1] << 8
        i += 2
        if klen == 0 or klen + 2 > n - i:
            return None
        j = i + klen
        key = text[i:j]
        vlen = block[j] | block[j + 1] << 8
        i = j + 2
        j = i + vlen
        if j > n:
            return None
        value = text[i:j]
        i = j
        if '\0' in key or '\0' in value:
            return None
        if key.startswith('wsgi.'):
            continue
        if key == 'CONTENT_LENGTH':
            # One decimal value spelt twice ('3', '03') is one framing (RFC 9110 section 8.6).
            if seen_length is not None and seen_length != value and not (
                    DIGITS.match(seen_length) and DIGITS.match(value) and int(seen_length) == int(value)):
                return None
            seen_length = value
        out[key] = value
    return out


def packet_content_length(vars_):
    """The body length a packet's CONTENT_LENGTH announces (absent or empty: 0), or None when
    the master's parser would refuse it: ASCII digits only, at most 2^53-1 (RFC 9110 section 8.6)."""
    raw_length = vars_.get('CONTENT_LENGTH', '')
    if not raw_length:
        return 0
    if not DIGITS.match(raw_length) or int(raw_length) > MAX_SAFE_INTEGER:
        return None
    return int(raw_length)


def relay_connection(raw, data, path, token, index, peer_host, peer_port, log):
    """Pumps a connection through the master's channel socket: RELAY first, then bytes both
    ways.  The client may half-close (its request is complete) and still get the answer; when
    the master's side ends, the conversation is over and both sides are closed, so a client
    that never closes cannot hold this thread."""
    conn = up = None
    try:
        conn = socket.socket(fileno=raw.fileno())
        # No timeout while relayed: the master's front applies its own (keep-alive, slow peers).
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack('ll', 0, 0))
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack('ll', 0, 0))
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(path)
        local = conn.getsockname() if conn.family != socket.AF_UNIX else ('', 0)
        intro = json.dumps({'token': token, 'listener': index, 'peer': peer_host, 'port': peer_port,
                            'local': local[0], 'local_port': local[1]}).encode('utf-8')
        up.sendall(frame(0, RELAY, intro) + data)
        poller = select.poll()  # not select(): descriptors past 1023 are fine
        poller.register(conn, select.POLLIN)
        poller.register(up, select.POLLIN)
        by_fd = {conn.fileno(): (conn, up), up.fileno(): (up, conn)}
        client_open = True
        while True:
            for fd, _ in poller.poll():
                src, dst = by_fd[fd]
                try:
                    chunk = src.recv(65536)
                except OSError:
                    chunk = b''
                if chunk:
                    dst.sendall(chunk)
                    continue
                if src is up:
                    return  # the master ended it: close both
                if client_open:
                    client_open = False  # half-close: the answer may still come
                    poller.unregister(conn)
                    up.shutdown(socket.SHUT_WR)
    except OSError as e:
        log('relaying a connection to the master failed: %s' % e)
    finally:
        if conn is None:
            raw.close()
        for sock in (conn, up):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass


# ---------------------------------------------------------------------------- boot


class BootFailure(Exception):
    def __init__(self, kind, message, tb=''):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message
        self.traceback = tb


def _is_int(value):
    return type(value) is int  # not bool, which JSON's true would be


def _string_or_null(v):
    return v is None or (isinstance(v, str) and v != '')


def _strings(v):
    return isinstance(v, list) and all(isinstance(s, str) for s in v)


def _listeners(v):
    return isinstance(v, list) and len(v) > 0 and all(
        isinstance(l, dict) and len(l) == 3 and _is_int(l.get('fd')) and type(l.get('unix')) is bool
        and _is_int(l.get('index')) for l in v)


# BERTH_WORKER_CONFIG: every key, each with its rule (as test/fixtures/conformance/
# worker-config.json words it) and its check.  src/protocol/worker/worker-config.ts has the
# same table; a key missing or unknown on either side is refused by name.
CONFIG_KEYS = {
    'mode': ('one of', lambda v: v in ('worker', 'zygote')),
    'module': ('non-empty string or null', _string_or_null),
    'wsgi_file': ('non-empty string or null', _string_or_null),
    'callable': ('non-empty string', lambda v: isinstance(v, str) and v != ''),
    'chdir': ('non-empty string or null', _string_or_null),
    'pythonpath': ('list of strings', _strings),
    'threads': ('integer >= 1', lambda v: _is_int(v) and v >= 1),
    'processes': ('integer >= 1', lambda v: _is_int(v) and v >= 1),
    'worker_id': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'check': ('boolean', lambda v: type(v) is bool),
    'django_static': ('boolean', lambda v: type(v) is bool),
    'channel_path': ('non-empty string or null', _string_or_null),
    'token': ('string', lambda v: isinstance(v, str)),
    'uid': ('name, integer >= 0 or null', lambda v: _string_or_null(v) or (_is_int(v) and v >= 0)),
    'gid': ('name, integer >= 0 or null', lambda v: _string_or_null(v) or (_is_int(v) and v >= 0)),
    'umask': ('integer 0..511 or null', lambda v: v is None or (_is_int(v) and 0 <= v <= 0o777)),
    'py_autoreload': ('number >= 0', lambda v: type(v) in (int, float) and 0 <= v < float('inf')),
    'own_group': ('boolean', lambda v: type(v) is bool),
    'direct': ('direct object or null', lambda v: v is None or isinstance(v, dict)),
}
WORKER_MODES = ('worker', 'zygote')
DIRECT_KEYS = {
    'listeners': ('non-empty list of {fd: integer, unix: boolean, index: integer}', _listeners),
    'backlog': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'buffer_size': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'limit_post': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'timeout_ms': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'batch': ('boolean', lambda v: type(v) is bool),
    'static_prefixes': ('list of strings', _strings),
    'manage_script_name': ('boolean', lambda v: type(v) is bool),
    'mounts': ('list of strings', _strings),
    'log_all': ('boolean', lambda v: type(v) is bool),
    'log_4xx': ('boolean', lambda v: type(v) is bool),
    'slow_ms': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'relay_path': ('string', lambda v: isinstance(v, str)),
    'token': ('string', lambda v: isinstance(v, str)),
}


def _key_problems(where, value, rules):
    problems = ['%s%s is not a known key' % (where, k) for k in value if k not in rules]
    for key, (rule, check) in rules.items():
        if key not in value:
            problems.append('%s%s is missing (%s)' % (where, key, rule))
        elif not check(value[key]):
            wanted = ' or '.join(WORKER_MODES) if key == 'mode' else 'true or false' if rule == 'boolean' else rule
            problems.append('%s%s must be %s, not %s' % (where, key, wanted, json.dumps(value[key])))
    return problems


def read_config(text):
    """Parse and check BERTH_WORKER_CONFIG: exactly the keys of CONFIG_KEYS (and of DIRECT_KEYS
    in `direct`), each by its rule; BootFailure naming every problem otherwise."""
    if text is None:
        raise BootFailure('config', 'BERTH_WORKER_CONFIG is not set')
    try:
        cfg = json.loads(text)
    except ValueError as e:
        raise BootFailure('config', 'BERTH_WORKER_CONFIG is not valid JSON: %s' % e)
    if not isinstance(cfg, dict):
        raise BootFailure('config', 'BERTH_WORKER_CONFIG must be a JSON object')
    problems = _key_problems('', cfg, CONFIG_KEYS)
    if isinstance(cfg.get('direct'), dict):
        problems += _key_problems('direct.', cfg['direct'], DIRECT_KEYS)
    if (cfg.get('module') is None) == (cfg.get('wsgi_file') is None):
        problems.append('exactly one of module and wsgi_file must be set')
    if cfg.get('mode') == 'zygote' and not (isinstance(cfg.get('channel_path'), str) and cfg['channel_path']):
        problems.append("channel_path must be the master's unix socket in mode zygote")
    if problems:
        raise BootFailure('config', 'bad BERTH_WORKER_CONFIG: ' + '; '.join(problems))
    return cfg


def prepare_sys_path(cfg):
    """Like uWSGI: pythonpath entries first, then the wsgi-file's directory and the
    working directory; this script's own directory is removed."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = list(sys.path)
    if rest and os.path.abspath(rest[0] or '.') == here:
        rest.pop(0)
    front = [os.path.abspath(p) for p in cfg['pythonpath']]
    if cfg['wsgi_file']:
        front.append(os.path.dirname(os.path.abspath(cfg['wsgi_file'])))
    front.append(os.getcwd())
    seen = set()
    new = []
    for p in front + rest:
        if p not in seen:
            seen.add(p)
            new.append(p)
    sys.path[:] = new


def module_name_for_file(path):
    stem = os.path.basename(path).split('.')[0] or 'wsgi'
    name = ''.join(c if c.isalnum() or c == '_' else '_' for c in stem)
    return name if not name[0].isdigit() else '_' + name


def import_app_module(cfg):
    """Import the module or exec the wsgi-file; returns (module, callable name, label)."""
    if cfg['module']:
        modname, _, attr = cfg['module'].partition(':')
        label = 'module %r' % modname
        try:
            module = importlib.import_module(modname)
        except BaseException as e:
            raise BootFailure('import', 'importing %s failed: %s: %s' % (label, type(e).__name__, e),
                              traceback.format_exc())
        return module, attr or cfg['callable'], label
    path = os.path.abspath(cfg['wsgi_file'])
    label = 'wsgi-file %s' % path
    if not os.path.isfile(path):
        raise BootFailure('import', '%s does not exist (working directory %s)' % (label, os.getcwd()))
    name = module_name_for_file(path)
    try:
        loader = importlib.machinery.SourceFileLoader(name, path)
        spec = importlib.util.spec_from_loader(name, loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
    except BaseException as e:
        sys.modules.pop(name, None)
        raise BootFailure('import', 'loading %s failed: %s: %s' % (label, type(e).__name__, e),
                          traceback.format_exc())
    return module, cfg['callable'], label


def load_app(cfg):
    module, name, label = import_app_module(cfg)
    app = getattr(module, name, None)
    if app is None:
        found = sorted(n for n, v in vars(module).items()
                       if not n.startswith('_') and callable(v) and not isinstance(v, type(sys)))
        raise BootFailure('callable', '%s has no callable %r; its callables: %s'
                          % (label, name, ', '.join(found[:20]) or '(none)'))
    if not callable(app):
        raise BootFailure('callable', '%s: %r is a %s, not callable' % (label, name, type(app).__name__))
    return app


def boot(cfg, lifeline):
    if cfg['chdir']:
        try:
            os.chdir(cfg['chdir'])
        except OSError as e:
            raise BootFailure('chdir', 'cannot chdir to %r: %s' % (cfg['chdir'], e.strerror or e))
    if drop_privileges(cfg):
        lifeline.rearm()  # the kernel cleared PR_SET_PDEATHSIG when the credentials changed
    prepare_sys_path(cfg)
    return load_app(cfg)


# ---------------------------------------------------------------------------- privileges


def resolve_user(value):
    """The uid option -> (uid, user name or None, the user's primary gid or None)."""
    text = str(value)
    if text.isdigit():
        uid = int(text)
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            return uid, None, None
        return uid, entry.pw_name, entry.pw_gid
    try:
        entry = pwd.getpwnam(text)
    except KeyError:
        raise BootFailure('privileges', "option 'uid': user %r does not exist (no such entry in the password "
                                        "database); use an existing user name or a numeric uid" % text)
    return entry.pw_uid, entry.pw_name, entry.pw_gid


def resolve_group(value):
    """The gid option -> a gid."""
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return grp.getgrnam(text).gr_gid
    except KeyError:
        raise BootFailure('privileges', "option 'gid': group %r does not exist (no such entry in the group "
                                        "database); use an existing group name or a numeric gid" % text)


def _label(kind, value):
    text = str(value)
    return '%s %s' % (kind, text) if text.isdigit() else '%s %r' % (kind, text)


def privilege_plan(cfg):
    """(umask, uid, user name, gid) resolved from the options; None where nothing changes.
    Raises BootFailure('privileges') for unknown names."""
    uid = user = user_gid = None
    if cfg['uid'] is not None:
        uid, user, user_gid = resolve_user(cfg['uid'])
    gid = resolve_group(cfg['gid']) if cfg['gid'] is not None else user_gid
    if uid is not None and gid is None:
        raise BootFailure('privileges', "option 'uid': %s has no password-database entry, so its group is unknown "
                                        "and the worker would keep the group it started with; set 'gid' too"
                          % _label('uid', cfg['uid']))
    return cfg['umask'], uid, user, gid


def drop_privileges(cfg):
    """umask, then gid (setgid + supplementary groups), then uid, as the options say.
    True when the credentials changed (the caller re-arms PR_SET_PDEATHSIG)."""
    umask, uid, user, gid = privilege_plan(cfg)
    if umask is not None:
        os.umask(umask)
    if uid is None and gid is None:
        return False
    who_gid = _label('group', cfg['gid']) if cfg['gid'] is not None else 'group %d (the primary group of %s)' % (
        gid, _label('user', cfg['uid']))
    option = 'gid' if cfg['gid'] is not None else 'uid'
    try:
        os.setgid(gid)
    except OSError as e:
        raise BootFailure('privileges', "option '%s': %s — setgid(%d) failed: %s; start Berth as root, or "
                                        "remove '%s'" % (option, who_gid, gid, e.strerror or e, option))
    if os.geteuid() == 0:
        # Root's supplementary groups (root, disk, ...) must not survive the drop.
        try:
            if uid is not None and user is not None:
                os.initgroups(user, gid)
            else:
                os.setgroups([gid])
        except OSError as e:
            raise BootFailure('privileges', "option '%s': %s — setting the supplementary groups failed: %s"
                              % (option, who_gid, e.strerror or e))
    if uid is not None:
        try:
            os.setuid(uid)
        except OSError as e:
            raise BootFailure('privileges', "option 'uid': %s — setuid(%d) failed: %s; start Berth as root, or "
                                            "remove 'uid'" % (_label('user', cfg['uid']), uid, e.strerror or e))
    return True


def django_mountpoints(info):
    """STATIC_URL and MEDIA_URL as the URL prefixes the master maps for static-from-django
    ('/static/' -> '/static'); another host or a relative URL maps nothing.  The master's
    djangoMountpoint (src/static/static-files.ts) decides what is mapped; this only has to find
    at least those prefixes, since a relay the master did not need still ends at the app."""
    from urllib.parse import unquote  # only for static-from-django, which has Django loaded
    out = []
    if isinstance(info, dict) and 'error' not in info:
        for url in (info.get('static_url'), info.get('media_url')):
            if url and url.startswith('/') and not url.startswith('//'):
                path = re.split('[?#]', url, 1)[0].rstrip('/')
                if path:
                    out.append(unquote(path))
    return out


def django_static_info():
    """Django's static and media settings for static-from-django, or None when the app did
    not load Django or left its settings unconfigured.  Paths are made absolute here (the
    worker's working directory is the app's); a broken settings module is reported as
    {"error": ...}, never raised, because serving the app matters more than the mapping."""
    if 'django.conf' not in sys.modules:
        return None
    try:
        from django.conf import settings
        if not settings.configured:
            return None

        def text(value):
            if value is None or value == '':
                return None
            return os.fspath(value) if not isinstance(value, str) else value

        def directory(value):
            value = text(value)
            return None if value is None else os.path.abspath(value)

        apps = [a for a in getattr(settings, 'INSTALLED_APPS', []) if isinstance(a, str)]
        return {
            'static_url': text(getattr(settings, 'STATIC_URL', None)),
            'static_root': directory(getattr(settings, 'STATIC_ROOT', None)),
            'media_url': text(getattr(settings, 'MEDIA_URL', None)),
            'media_root': directory(getattr(settings, 'MEDIA_ROOT', None)),
            # An AppConfig path counts too; django.contrib.admindocs does not.
            'installed_apps_has_admin': any(a == 'django.contrib.admin' or a.startswith('django.contrib.admin.')
                                            for a in apps),
            'debug': bool(getattr(settings, 'DEBUG', False)),
        }
    except Exception as e:
        return {'error': '%s: %s' % (type(e).__name__, e)}


def report_boot_failure(sock, failure):
    info = {'kind': failure.kind, 'message': failure.message, 'traceback': failure.traceback,
            'executable': sys.executable, 'sys_path': list(sys.path)}
    if sock is not None:
        try:
            sock.sendall(json_frame(0, BOOT_FAIL, info))
        except OSError:
            pass
    text = ['berth worker %d: cannot start the app (%s): %s' % (os.getpid(), failure.kind, failure.message)]
    if failure.traceback:
        text.append(failure.traceback.rstrip('\n'))
    text.append('python: %s (%s)' % (sys.executable, platform.python_version()))
    text.append('sys.path: %s' % json.dumps(list(sys.path)))
    sys.stderr.write('\n'.join(text) + '\n')
    sys.stderr.flush()
    return EXIT_FOR_KIND.get(failure.kind, EXIT_BOOT_FAILURE)


# ---------------------------------------------------------------------------- process


def arm_parent_death_signal():
    """Linux: the kernel SIGKILLs us when our parent dies, even if the app is stuck."""
    if not sys.platform.startswith('linux'):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except Exception:
        pass


# The guardian: SIGKILL our process group (kill 0) unless the leader says "q" first.
GUARDIAN_SCRIPT = 'read -r line; [ "$line" = q ] || kill -KILL 0'


class Lifeline(object):
    """What this process does once its parent (the master, or a forked worker's zygote)
    is gone: exit 5, first SIGKILLing its whole process group when Berth made it the
    group's leader, so the app's own subprocesses do not outlive Berth."""

    def __init__(self, parent, group_leader):
        self.parent = parent
        self.group_leader = group_leader
        self.guardian = None  # write end of the guardian's pipe

    def start_guardian(self):
        """A `sh` in our group, reading a pipe whose write end only we hold: when we die
        without a normal exit (PDEATHSIG's SIGKILL, which no code of ours outlives, a
        crash, a harakiri kill), read() sees EOF and it SIGKILLs the group.  release()
        writes "q" on a normal exit, so a retiring worker's subprocesses are left alone."""
        import subprocess
        r, w = os.pipe()
        try:
            subprocess.Popen(['/bin/sh', '-c', GUARDIAN_SCRIPT], stdin=r, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, close_fds=True)
            self.guardian = w
        except OSError as e:
            os.close(w)
            write_stderr('berth worker %d: warning: cannot start the process-group guardian '
                         '(/bin/sh): %s\n' % (os.getpid(), e))
        finally:
            os.close(r)

    def release(self):
        """A normal exit: the guardian leaves the group alone."""
        if self.guardian is not None:
            try:
                os.write(self.guardian, b'q\n')
            except OSError:
                pass
            self.forget()

    def forget(self):
        """A forked worker drops its copy, so only the zygote's death arms the guardian."""
        if self.guardian is not None:
            os.close(self.guardian)
            self.guardian = None

    def master_gone(self):
        return os.getppid() != self.parent

    def rearm(self):
        """PR_SET_PDEATHSIG again (fork and credential changes clear it); if the parent
        died before that, nobody would ever send the signal: leave now."""
        arm_parent_death_signal()
        if self.master_gone():
            self.gone()

    def gone(self):
        if self.group_leader:
            try:
                os.killpg(os.getpgrp(), signal.SIGKILL)  # includes us
            except OSError:
                pass
        os._exit(EXIT_MASTER_GONE)


def leads_own_group(cfg):
    """own_group, double-checked: killpg on a group we do not lead could hit the master."""
    return cfg['own_group'] and os.getpgrp() == os.getpid()


# The signals this process handles: SIGTERM (stop), SIGUSR2 (harakiri), SIGCHLD (the zygote).
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGUSR2, signal.SIGCHLD)


class HelperThread(threading.Thread):
    """A daemon thread that never takes the process's signals.  Python runs handlers only
    in the main thread; a signal the kernel gave to a helper thread would only set a flag,
    leaving the main thread asleep in the app (a harakiri dump would come 30 s late, or
    never).  Blocked here, every signal goes to the main thread.  The
    mask is set around start(), since a new thread inherits its creator's."""

    def __init__(self, target, name, args=()):
        threading.Thread.__init__(self, target=target, name=name, args=args, daemon=True)

    def start(self):
        old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        try:
            threading.Thread.start(self)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def run_signal_handlers():
    """Runs the Python handlers of signals that have already arrived.  CPython (seen with
    3.11) can lose the main thread's wake-up: the C handler sets a flag and the eval loop's "breaker",
    and another thread that recomputes the breaker clears it (only the main thread may run
    handlers), so a main thread that then blocks in a lock wait never looks at the flag; a
    harakiri dump waited for the next signal (a test failed 1 run in 4 on a loaded machine).
    pthread_sigmask() calls PyErr_CheckSignals(), which looks.  Called where the main thread
    wakes anyway (every SIGNAL_CHECK_S when idle), never per request."""
    signal.pthread_sigmask(signal.SIG_BLOCK, ())


def start_eof_watchdog(sock, on_eof):
    """Call on_eof() as soon as the master's end closes, even while the app runs
    (POLLRDHUP).  Returns stop(), which ends and joins the thread: the zygote watches only
    while it imports the app, since it must not fork with a second thread alive."""
    rdhup = getattr(select, 'POLLRDHUP', None)
    if rdhup is None:
        return lambda: None
    wake_r, wake_w = os.pipe()

    def watch():
        poller = select.poll()
        poller.register(sock.fileno(), rdhup)
        poller.register(wake_r, select.POLLIN)
        while True:
            try:
                events = poller.poll()
            except InterruptedError:
                continue
            if any(fd == wake_r for fd, _ in events):
                return
            if events:
                on_eof()

    thread = HelperThread(watch, 'berth-eof-watchdog')
    thread.start()

    def stop():
        os.write(wake_w, b'x')
        thread.join()
        os.close(wake_r)
        os.close(wake_w)
    return stop


def open_channel(environ):
    fd = environ.get('BERTH_CHANNEL_FD')
    try:
        sock = socket.socket(fileno=int(fd))
        sock.setblocking(True)
        # The app's subprocesses must not hold our channel open (exec would inherit it).
        sock.set_inheritable(False)
        return sock
    except (TypeError, ValueError, OSError) as e:
        raise BootFailure('config', 'BERTH_CHANNEL_FD=%r is not a connected socket: %s' % (fd, e))


def connect_channel(path, slot, token):
    """A forked worker's own channel: connect to the master's socket and send HELLO."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        sock.sendall(json_frame(slot, HELLO, {'pid': os.getpid(), 'token': token}))
    except OSError as e:
        sock.close()
        hint = ''
        if isinstance(e, PermissionError):
            hint = ("; the socket file must be writable and its directories searchable by uid %d "
                    "(the 'uid' option)" % os.getuid())
        raise BootFailure('channel', "worker slot %d cannot connect to the master's socket %s: %s%s"
                          % (slot, path, e.strerror or e, hint))
    return sock


def write_stderr(text):
    """Straight to fd 2: safe in a signal handler that interrupted a sys.stderr write
    (the buffered writer would raise "reentrant call")."""
    try:
        sys.stderr.flush()
    except Exception:
        pass
    data = text.encode('utf-8', 'replace')
    while data:
        try:
            data = data[os.write(2, data):]
        except InterruptedError:
            continue
        except OSError:
            return


def make_logger(stream):
    prefix = 'berth worker %d: ' % os.getpid()

    def log(line):
        stream.write(prefix + line + '\n')
        stream.flush()
    return log


def ready_info(cfg):
    ready = {'pid': os.getpid(), 'executable': sys.executable, 'version': platform.python_version(),
             'threads': cfg['threads'], 'sys_path': list(sys.path)}
    if cfg['django_static']:
        django = django_static_info()
        if django is not None:
            ready['django'] = django
    return ready


def json_frame(rid, typ, value):
    return frame(rid, typ, json.dumps(value).encode('utf-8'))


def announce(sock, ready, reporter, lifeline):
    """READY, then (py-autoreload) the first MODULES; a closed channel means the master
    is gone."""
    try:
        sock.sendall(json_frame(0, READY, ready))
        if reporter is not None:
            sock.sendall(json_frame(0, MODULES, reporter.scan()[0]))
    except OSError:
        lifeline.gone()


# ---------------------------------------------------------------------------- py-autoreload


def _dir_prefixes(*dirs):
    out = set()
    for d in dirs:
        if d:
            for variant in (os.path.abspath(d), os.path.realpath(d)):
                out.add(variant.rstrip(os.sep) + os.sep)
    return tuple(sorted(out))


class ModuleReporter(object):
    """py-autoreload's view of sys.modules: the source files worth watching.

    Each __file__ is resolved once (cached), so a rescan costs a dict lookup per module.
    The standard library is left out (it changes only with the interpreter), except
    site-packages where an install keeps it inside the stdlib directory; so is this file."""

    def __init__(self):
        import sysconfig
        paths = sysconfig.get_paths()
        self.skip = _dir_prefixes(paths.get('stdlib'), paths.get('platstdlib'))
        self.keep = _dir_prefixes(paths.get('purelib'), paths.get('platlib'))
        self.own = os.path.abspath(__file__)
        self.cache = {}
        self.known = set()

    def source_of(self, filename):
        """The file to watch for a module's __file__, or None."""
        path = os.path.abspath(filename)
        if path.endswith('.pyc'):
            try:
                source = importlib.util.source_from_cache(path)  # __pycache__/x.cpython-311.pyc
            except (ValueError, NotImplementedError):
                source = path[:-1]  # a legacy x.pyc beside x.py
            if os.path.isfile(source):
                path = source
        if path == self.own or (path.startswith(self.skip) and not path.startswith(self.keep)):
            return None
        return path if os.path.isfile(path) else None

    def paths(self):
        cache = self.cache
        found = set()
        for module in list(sys.modules.values()):
            try:
                filename = module.__file__
            except Exception:  # None entries, modules without a file, odd lazy modules
                continue
            if type(filename) is not str:
                continue
            path = cache.get(filename, False)
            if path is False:
                path = cache[filename] = self.source_of(filename)
            if path is not None:
                found.add(path)
        return found

    def scan(self):
        """(every path seen so far, sorted; True when this scan found new ones)."""
        found = self.paths()
        grew = not found <= self.known
        if grew:
            self.known |= found
        return sorted(self.known), grew


def start_module_reporter(reporter, send, period):
    """Every `period` seconds, send MODULES again if modules were imported meanwhile."""
    def loop():
        while True:
            time.sleep(period)
            try:
                paths, grew = reporter.scan()
            except Exception:
                continue
            if grew:
                send(json_frame(0, MODULES, paths))

    HelperThread(loop, 'berth-autoreload').start()


# ---------------------------------------------------------------------------- preload


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return 'SIG%d' % number


def exit_info(pid, status):
    """EXITED's JSON for a waitpid() status (None: reaped by someone else, cause unknown)."""
    code = sig = None
    if status is not None:
        if os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            sig = signal_name(os.WTERMSIG(status))
    return {'pid': pid, 'code': code, 'signal': sig}


class Zygote(object):
    """Preload mode: holds the imported app and forks workers on the master's command.

    Theory of operation: one thread and one select() over the control channel and a
    self-pipe that signal.set_wakeup_fd() writes when SIGCHLD or SIGTERM arrives (the
    handlers only set flags).  FORK forks: in the child run() returns the slot and the
    caller becomes a worker; the zygote answers FORKED.  SIGCHLD reaps the pids we forked
    (only those: children the app started while importing stay the app's to wait for) and
    reports EXITED.  SHUTDOWN, or SIGTERM while the master lives: SIGTERM the workers,
    reap them all, exit 0.  EOF, or SIGTERM after the master died: the Lifeline path
    (without a group of our own, our workers are SIGKILLed first).  The zygote never
    serves a request: any frame but FORK and SHUTDOWN is a protocol error."""

    def __init__(self, sock, lifeline, log):
        self.sock = sock
        self.lifeline = lifeline
        self.log = log
        self.reader = FrameReader()
        self.children = {}  # pid -> slot
        self.term = False
        self.wake_r = self.wake_w = -1

    def run(self):
        """(slot, None) in a forked child, which must go on to serve; (None, exit code)
        in the zygote."""
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, self._on_chld)
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)  # harakiri dumps are for workers
        while True:
            readable = self._wait()
            if self.term:
                return None, self.shutdown()
            if self.sock not in readable:
                continue
            for rid, typ, payload in self._read():
                if typ == FORK:
                    if self.fork(rid):
                        return rid, None
                elif typ == SHUTDOWN:
                    return None, self.shutdown()
                else:
                    raise ProtocolError('frame type 0x%02x (id %d) sent to the zygote, which only '
                                        'takes FORK and SHUTDOWN' % (typ, rid))

    def fork(self, slot):
        """True in the child."""
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as e:
            self.log('fork() for worker slot %d failed: %s' % (slot, e))
            self.refuse(slot, 'fork() failed: %s' % e)
            return False
        if pid == 0:
            self._become_child()
            return True
        self.children[pid] = slot
        self.send(json_frame(slot, FORKED, {'pid': pid}))
        return False

    def _become_child(self):
        """Drop the zygote's descriptors, handlers and guardian pipe; the caller re-arms
        PR_SET_PDEATHSIG (fork cleared it) with a Lifeline whose parent is the zygote."""
        signal.set_wakeup_fd(-1)
        os.close(self.wake_r)
        os.close(self.wake_w)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGUSR2):
            signal.signal(signum, signal.SIG_DFL)
        self.sock.close()
        self.lifeline.forget()
        self.children = {}

    def refuse(self, slot, error):
        """EXITED without a pid: this FORK made no worker."""
        self.send(json_frame(slot, EXITED, {'pid': None, 'code': None, 'signal': None, 'error': error}))

    def reap(self):
        for pid in list(self.children):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, None  # the app's own os.wait() took it
            if done:
                self.send(json_frame(self.children.pop(pid), EXITED, exit_info(pid, status)))

    def shutdown(self):
        """SIGTERM the live workers (the master normally stopped them already), reap, 0."""
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        while self.children:
            if self.sock in self._wait():
                for rid, typ, _ in self._read():
                    if typ == FORK:
                        self.refuse(rid, 'the zygote is shutting down')
        return EXIT_OK

    def master_gone(self):
        if not self.lifeline.group_leader:
            for pid in self.children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.lifeline.gone()

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.master_gone()

    def _wait(self):
        """Block until the channel or the self-pipe is readable; reap on a signal."""
        readable = select.select([self.sock, self.wake_r], [], [])[0]
        if self.wake_r in readable:
            try:
                while os.read(self.wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            self.reap()
        return readable

    def _read(self):
        try:
            data = self.sock.recv(RECV_BYTES)
        except OSError:
            data = b''
        if not data:
            self.master_gone()
        return self.reader.feed(data)

    def _on_chld(self, signum, frm):
        pass  # the wakeup fd already woke select()

    def _on_term(self, signum, frm):
        if self.lifeline.master_gone():
            self.master_gone()
        self.term = True


def run_zygote(sock, cfg, lifeline, reporter):
    """READY {"zygote": true}, MODULES, then fork on command: (slot, None) in a forked
    child, (None, exit code) in the zygote."""
    log = make_logger(sys.stderr)
    ready = ready_info(cfg)
    ready['zygote'] = True
    announce(sock, ready, reporter, lifeline)
    if cfg['check']:
        return None, EXIT_OK
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    if others:
        log('warning: importing the app started %d thread(s) (%s); fork() copies only the calling '
            'thread, so a lock one of them holds stays locked in every worker. Start threads on the '
            'first request instead, or set lazy-apps = true' % (len(others), ', '.join(others)))
    try:
        return Zygote(sock, lifeline, log).run()
    except ProtocolError as e:
        log('protocol error from the master: %s' % e)
        return None, EXIT_USAGE


# ---------------------------------------------------------------------------- main


def serve_worker(sock, app, cfg, lifeline, reporter, announce_modules, listeners=None):
    """READY (and MODULES), then serve until SHUTDOWN or SIGTERM; the exit code.
    `listeners`: the uwsgi sockets to accept on directly (config "direct"), or None."""
    log = make_logger(sys.stderr)
    base = base_environ(cfg['threads'], cfg['processes'], ErrorStream(sys.stderr))
    ready = ready_info(cfg)  # with static-from-django, Django's settings: read once, used twice
    direct = None
    if listeners:
        # Framed requests (HTTP ports, relayed connections) are served by threads beside the
        # accept loop, which owns the main thread.
        server = ThreadedServer(sock, app, base, log, cfg['threads'], lifeline)
        server.gate = Gate(cfg['threads'])
        dcfg = dict(cfg['direct'])
        if 'django' in ready:
            dcfg['static_prefixes'] = list(dcfg.get('static_prefixes', ())) + django_mountpoints(ready['django'])
        direct = DirectServer(listeners, app, base, log, dcfg, cfg['threads'], server.gate,
                              server.control_sender())
        # SHUTDOWN arrives on the reader thread; only the main thread can leave accept().
        server.on_stop = lambda: os.kill(os.getpid(), signal.SIGTERM) if not direct.stopping else None
    elif cfg['threads'] == 1:
        server = InlineServer(sock, app, base, log, lifeline)
    else:
        server = ThreadedServer(sock, app, base, log, cfg['threads'], lifeline)

    def on_term(signum, frm):
        if lifeline.master_gone():
            lifeline.gone()
        if direct is not None:
            server.on_stop = None
        server.request_stop()
        if direct is not None:
            direct.request_stop()  # the accept loop sees it within ACCEPT_POLL_S

    def on_usr2(signum, frm):
        server.dump_stacks(signum, frm)
        if direct is not None:
            direct.timeout_answers()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR2, on_usr2)
    announce(sock, ready, reporter if announce_modules else None, lifeline)
    if cfg['check']:
        return EXIT_OK
    if reporter is not None:
        start_module_reporter(reporter, server.control_sender(), cfg['py_autoreload'])
    try:
        if direct is None:
            server.serve()
        else:
            HelperThread(server.serve, 'berth-framed').start()
            direct.serve()
            server.wait_done()
    except ProtocolError as e:
        log('protocol error from the master: %s' % e)
        return EXIT_USAGE
    return EXIT_OK


def open_direct_listeners(cfg):
    """The inherited uwsgi sockets of config "direct", listening: [(socket, unix, index)].
    The master bound them without listening (Node would otherwise accept on them itself), so
    the first process to start puts them in the listen state; later calls only repeat it."""
    direct = cfg['direct']
    if direct is None:
        return None
    global _SETSOCKOPT, _TIMEVALS
    timeout = direct['timeout_ms'] / 1000.0
    RawConn.timeout_s = timeout

    def timeval(seconds):
        return struct.pack('ll', int(seconds), int((seconds - int(seconds)) * 1e6))
    if any(spec['unix'] for spec in direct['listeners']):
        _SETSOCKOPT = _setsockopt_fd()
        _TIMEVALS = (timeval(ACCEPT_POLL_S), timeval(timeout))
    out = []
    try:
        for spec in direct['listeners']:
            sock = socket.socket(fileno=spec['fd'])
            sock.set_inheritable(False)  # the app's subprocesses must not hold it
            sock.listen(direct['backlog'])
            # Blocking accept (threads == 1) or select + non-blocking accept (threads > 1).
            sock.setblocking(cfg['threads'] == 1 and len(direct['listeners']) == 1)
            # accept() returns every ACCEPT_POLL_S to look for a stop; accepted connections
            # inherit both: a peer that stalls cannot hold a thread past the socket timeout.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval(ACCEPT_POLL_S))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval(timeout))
            out.append((sock, spec['unix'], spec['index']))
    except OSError as e:
        raise BootFailure('config', 'cannot use the uwsgi socket the master passed (fd %s): %s' % (spec['fd'], e))
    return out


def main(argv):
    if len(argv) > 1:
        sys.stderr.write('usage: BERTH_CHANNEL_FD=3 BERTH_WORKER_CONFIG=<json> %s\n'
                         '(started by the Berth master, not by hand)\n' % argv[0])
        return EXIT_USAGE
    lifeline = Lifeline(os.getppid(), False)
    try:
        return run(lifeline)
    finally:
        lifeline.release()  # a forked worker's copy was forgotten: no-op there


def run(lifeline):
    lifeline.rearm()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, 'reconfigure'):
            stream.reconfigure(line_buffering=True)
    sock = None
    try:
        sock = open_channel(os.environ)
        stop_watchdog = start_eof_watchdog(sock, lifeline.gone)
        cfg = read_config(os.environ.get('BERTH_WORKER_CONFIG'))
        # It holds the channel and relay tokens: the app's subprocesses must not inherit them.
        os.environ.pop('BERTH_WORKER_CONFIG', None)
        # Listening before the import, so nginx's connections queue while the app loads.
        listeners = open_direct_listeners(cfg)
        lifeline.group_leader = leads_own_group(cfg)
        if lifeline.group_leader:
            lifeline.start_guardian()  # before the import: its subprocesses count too
        app = boot(cfg, lifeline)
        # The objects the import made live as long as the process: moved out of the collector's
        # reach, full collections no longer walk them (and forked workers do not touch their
        # pages, which stay shared with the zygote).
        gc.collect()
        gc.freeze()
    except BootFailure as failure:
        return report_boot_failure(sock, failure)
    if cfg['own_group'] and not lifeline.group_leader:
        make_logger(sys.stderr)('warning: own_group is set but this process does not lead its process '
                                'group; the app\'s subprocesses will not be killed with it')
    reporter = ModuleReporter() if cfg['py_autoreload'] > 0 else None
    if cfg['mode'] == 'worker':
        return serve_worker(sock, app, cfg, lifeline, reporter, True, listeners)
    stop_watchdog()
    zygote = os.getpid()
    slot, code = run_zygote(sock, cfg, lifeline, reporter)
    if slot is None:
        return code
    # A forked worker from here on; its parent is the zygote, which owns the group.
    lifeline = Lifeline(zygote, False)
    lifeline.rearm()
    try:
        sock = connect_channel(cfg['channel_path'], slot, cfg['token'])
    except BootFailure as failure:
        return report_boot_failure(None, failure)
    start_eof_watchdog(sock, lifeline.gone)
    return serve_worker(sock, app, cfg, lifeline, reporter, False, listeners)


if __name__ == '__main__':
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    if code == EXIT_OK:
        sys.exit(0)
    os._exit(code)
