"""The wire format between the master and a worker: frames, types, limits, FrameReader.

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
    0x0A REPORT    empty, id 0 (a direct worker only): send a DIRECT frame now (a graceful
                   stop counts the requests the worker serves itself); ignored without one
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
    0x91 RECYCLE   id 0, JSON {"rss": bytes, "limit": bytes}: after a request our RSS was
                   over reload_on_rss (sent once); we take no new connection on the uwsgi
                   sockets; the master stops routing to us, replaces us, then SHUTDOWN
    0x92 ACCEPT_STOPPED id 0, empty (uwsgi-direct, http-direct): after a stop, no accept on
                   the shared listeners can follow (sent once; a switch waits for it)
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
"""

import json
import struct

HEADER = struct.Struct('<IIB')
HEADER_U32 = struct.Struct('<IIBI')  # a header whose payload starts with one u32
U32 = struct.Struct('<I')
HEADER_BYTES = 9
MAX_FRAME_BYTES = 64 << 20

REQUEST, BODY_IN, BODY_END, ABORT, ACK, SHUTDOWN = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
FILE_OPENED, FILE_FAILED, FORK, REPORT = 0x07, 0x08, 0x09, 0x0A
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
# Worker -> master frames of the direct path (RELAY opens a relayed connection).
RELAY, DIRECT = 0x8F, 0x90
# reload-on-rss: the worker's RSS passed the limit after a request (memory_guard.py).
RECYCLE = 0x91
# A stopping direct worker takes no connection on the shared listeners any more.
ACCEPT_STOPPED = 0x92


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


def json_frame(rid, typ, value):
    return frame(rid, typ, json.dumps(value).encode('utf-8'))
