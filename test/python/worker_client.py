"""Test helper: start python/berth_worker.py on a socketpair and talk frames to it.

Shared by the unittests and bench_worker.py; stdlib only."""

import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
WORKER = os.path.join(ROOT, 'python', 'berth_worker.py')
APPS = os.path.join(ROOT, 'test', 'fixtures', 'worker-apps')
OPS_APPS = os.path.join(ROOT, 'test', 'python', 'ops_apps')
HEADER = struct.Struct('<IIB')

REQUEST, BODY_IN, BODY_END, ABORT, ACK, SHUTDOWN = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
FORK = 0x09
READY, BOOT_FAIL, HEAD, BODY, END, FULL, ERROR, CREDIT, LOG = range(0x81, 0x8A)
MODULES, FORKED, EXITED, HELLO = range(0x8B, 0x8F)


def frame(rid, typ, payload=b''):
    return HEADER.pack(len(payload), rid, typ) + payload


def environ_block(pairs):
    return '\0'.join(k + '\0' + v for k, v in pairs).encode('latin-1')


def request_frame(rid, path='/hello', method='GET', query='', has_body=False, extra=()):
    pairs = [('REQUEST_METHOD', method), ('SCRIPT_NAME', ''), ('PATH_INFO', path),
             ('QUERY_STRING', query), ('SERVER_NAME', 'localhost'), ('SERVER_PORT', '8000'),
             ('SERVER_PROTOCOL', 'HTTP/1.1'), ('REMOTE_ADDR', '127.0.0.1'), ('REMOTE_PORT', '50000'),
             ('REQUEST_URI', path + ('?' + query if query else '')), ('wsgi.url_scheme', 'http'),
             ('HTTP_HOST', 'localhost:8000'), ('HTTP_USER_AGENT', 'berth-test'),
             ('HTTP_ACCEPT', '*/*')] + list(extra)
    return frame(rid, REQUEST, bytes([1 if has_body else 0]) + environ_block(pairs))


def worker_config(**overrides):
    """A complete BERTH_WORKER_CONFIG (read_config refuses a missing key), as spawn.ts sends it."""
    cfg = {'mode': 'worker', 'module': 'apps', 'wsgi_file': None, 'callable': 'application', 'chdir': APPS,
           'pythonpath': [], 'threads': 1, 'processes': 1, 'worker_id': 1, 'check': False,
           'django_static': False, 'django_check': True, 'channel_path': None, 'token': '', 'uid': None, 'gid': None,
           'umask': None, 'py_autoreload': 0, 'own_group': False, 'reload_on_rss': 0, 'direct': None,
           'http_direct': None}
    cfg.update(overrides)
    return cfg


class Worker(object):
    """A worker subprocess plus the master's end of its channel."""

    def __init__(self, python=None, popen=None, **config):
        self.sock, child = socket.socketpair()
        env = dict(os.environ)
        env['BERTH_CHANNEL_FD'] = str(child.fileno())
        env['BERTH_WORKER_CONFIG'] = json.dumps(worker_config(**config))
        self.proc = subprocess.Popen([python or sys.executable, WORKER], env=env, pass_fds=[child.fileno()],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, **(popen or {}))
        child.close()
        self.buf = b''

    @classmethod
    def on(cls, sock):
        """A client for a channel that is already connected (a forked worker's)."""
        client = cls.__new__(cls)
        client.sock, client.buf, client.proc = sock, b'', None
        return client

    def expect(self, typ, timeout=10.0):
        """The next frame, which must be of this type: (id, payload)."""
        got = self.recv_frame(timeout)
        if got is None or got[1] != typ:
            raise AssertionError('expected frame 0x%02x, got %r; stderr: %s'
                                 % (typ, got and (got[1], got[2][:500]), self.stderr_text()))
        return got[0], got[2]

    def expect_json(self, typ, timeout=10.0):
        rid, payload = self.expect(typ, timeout)
        return rid, json.loads(payload)

    def send(self, data):
        self.sock.sendall(data)

    def recv_frame(self, timeout=10.0):
        """(id, type, payload) or None at EOF."""
        self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= 9:
                length, rid, typ = HEADER.unpack_from(self.buf)
                if len(self.buf) >= 9 + length:
                    payload = self.buf[9:9 + length]
                    self.buf = self.buf[9 + length:]
                    return rid, typ, payload
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            self.buf += data

    def ready(self):
        rid, typ, payload = self.recv_frame()
        if typ != READY:
            raise AssertionError('expected READY, got 0x%02x %r; stderr: %s'
                                 % (typ, payload[:500], self.stderr_text()))
        return json.loads(payload)

    def response(self, rid):
        """Collect one response: {'status', 'headers', 'body', 'error', 'kind'}; sends ACKs."""
        out = {'status': None, 'headers': [], 'body': b'', 'error': None, 'kind': None}
        while True:
            got = self.recv_frame()
            if got is None:
                raise AssertionError('channel closed before response %d ended' % rid)
            fid, typ, payload = got
            if fid != rid:
                raise AssertionError('frame for %d while waiting for %d' % (fid, rid))
            if typ == FULL:
                (hl,) = struct.unpack_from('<I', payload)
                self._head(out, payload[4:4 + hl])
                out['body'], out['kind'] = payload[4 + hl:], 'full'
                return out
            if typ == HEAD:
                self._head(out, payload)
                out['kind'] = 'stream'
            elif typ == BODY:
                out['body'] += payload
                self.send(frame(rid, ACK, struct.pack('<I', len(payload))))
            elif typ == END:
                return out
            elif typ == ERROR:
                out['error'] = payload.decode('utf-8')
                return out
            elif typ != CREDIT:
                raise AssertionError('unexpected frame type 0x%02x' % typ)

    @staticmethod
    def _head(out, block):
        parts = block.decode('latin-1').split('\0')
        out['status'], out['headers'] = parts[0], list(zip(parts[1::2], parts[2::2]))

    def stderr_text(self):
        if self.proc is None:
            return '(a forked worker: see the zygote\'s stderr)'
        if self.proc.poll() is None:
            return '(still running)'
        return self.proc.stderr.read().decode('utf-8', 'replace')

    def close(self, timeout=5):
        try:
            self.sock.close()
        finally:
            if self.proc is None:
                return
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()


def ops_worker(test, **config):
    """A READY worker serving ops_apps/ops_app.py, closed at the test's cleanup."""
    worker = Worker(module='ops_app', chdir=OPS_APPS, **config)
    test.addCleanup(worker.close)
    worker.ready()
    return worker


def cpu_seconds(pid):
    """CPU time of every thread of pid, in seconds (ns precision from schedstat on Linux)."""
    total = 0
    tasks = '/proc/%d/task' % pid
    if os.path.isdir(tasks):
        for tid in os.listdir(tasks):
            try:
                with open('%s/%s/schedstat' % (tasks, tid)) as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
        return total / 1e9
    return time.process_time()


def alive(pid):
    """True while pid exists and is not a zombie (an orphan's zombie may linger under
    a container's PID 1)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ('Z', 'X')


def wait_dead(pid, timeout=10.0):
    """True once pid is gone; False if it still lives after timeout."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_output(stream, needle, count=1, timeout=10.0):
    """Read a pipe (unbuffered) until needle appeared count times; the bytes read."""
    fd = stream.fileno()
    data = b''
    deadline = time.monotonic() + timeout
    while data.count(needle) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise AssertionError('%r did not appear %d time(s); got %r' % (needle, count, data))
        chunk = os.read(fd, 65536)
        if not chunk:
            raise AssertionError('pipe closed before %r appeared; got %r' % (needle, data))
        data += chunk
    return data


def wait_sleeping(pid, count=1, timeout=10.0):
    """Wait until `count` threads of pid sleep in the kernel (time.sleep).  A signal sent to a
    thread that printed "blocking" but has not yet entered the sleep is taken by the C handler
    while Python runs no handler, and CPython only runs it once the sleep ends: the tests that
    time a signal against the app must send it once the app is really asleep."""
    deadline = time.monotonic() + timeout
    tasks = '/proc/%d/task' % pid
    while True:
        asleep = 0
        for tid in os.listdir(tasks):
            try:
                with open('%s/%s/wchan' % (tasks, tid)) as f:
                    asleep += 'nanosleep' in f.read()
            except OSError:
                pass
        if asleep >= count:
            return
        if time.monotonic() > deadline:
            raise AssertionError('%d thread(s) of %d did not go to sleep within %g s' % (count, pid, timeout))
        time.sleep(0.01)


def json_body(client, rid, path, query=''):
    """Send one GET and return its JSON body."""
    client.send(request_frame(rid, path, query=query))
    out = client.response(rid)
    if out['status'] != '200 OK':
        raise AssertionError('%s answered %r %r' % (path, out['status'], out['error'] or out['body']))
    return json.loads(out['body'])
