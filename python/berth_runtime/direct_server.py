"""The direct server: serves uwsgi connections itself, relays the rest to the master.

Serves plain WSGI requests on connections accepted from the uwsgi
sockets the master handed over, and leaves every other connection to the master.

Theory of operation
-------------------
Behind nginx, the uwsgi protocol carries one request per connection, so a hop through the
master costs a connection set-up, two reads, two writes and two wake-ups per request.  With
direct serving (config "direct") the master binds each uwsgi socket and hands it to the
workers, which accept on it as uWSGI's workers do (direct_accept.py) and answer nginx
themselves, through the same WSGI core as the framed server (wsgi_core.py, with
DirectRequest as its sink).  The master still sees everything it must: a connection this
code does not serve as a plain WSGI request from a local peer (HTTP or TLS on the socket
port, another modifier1, a malformed or oversized packet, a peer outside loopback, a body
over limit-post, a path the static stage may answer) is relayed to the master's channel
socket with the bytes already read (relay.py), and the master's front door handles it as if
it had accepted it.  A foreign peer is relayed before anything is read from it, and no
thread waits on a peer: a request not whole at accept goes to the waiter (direct_waiter.py),
which hands it back to the serving threads once whole; a peer that sent more than its request
is drained there after its answer (lingering.py).  Served requests reach the master in
DIRECT frames (direct_report.py).
`gate` bounds the app calls of this server and of the framed server together to `threads`,
so an app that is not thread-safe never runs twice."""

import threading
import time
import traceback

from .direct_accept import Acceptor
from .direct_io import ACCEPT_POLL_S, DEFAULT_TIMEOUTS, DirectInput
from .direct_report import DirectReport
from .direct_request import DirectRequest
from .direct_waiter import MAX_BUFFERED_BYTES, NEED_MORE, RELAY, SERVE, ReadyQueue, Waiter
from .event_loop import EventLoop
from .http_head import HttpDate
from .lingering import Lingering
from .listen_queue import ListenQueueWatch
from .relay import RELAY_EXIT_WAIT_S, Relays
from .script_name import mount_prefixes, split_script_name
from .threads import HelperThread
from .uwsgi_kept_request import KEEPALIVE_VAR, KeptUwsgiRequest, offered_token
from .static_relay import for_static_stage, static_prefixes_of
from .uwsgi_vars import UWSGI_PACKET_HEAD, is_loopback, packet_content_length, parse_uwsgi_vars
from .wsgi_core import serve_request
from .wsgi_input import EMPTY_INPUT


KEPT_PER_THREAD = 16


class DirectServer(object):
    """Serves the direct connections; `channel_send` sends a frame to the master."""

    memory_guard = None  # reload-on-rss: main.py sets a MemoryGuard when it is on

    def __init__(self, listeners, app, base, log, dcfg, threads, gate, channel_send, timeouts=DEFAULT_TIMEOUTS):
        self.app = app
        self.base_without_script_name = dict((k, v) for k, v in base.items() if k != 'SCRIPT_NAME')
        self.log = log
        self.gate = gate
        self.max_vars = min(dcfg['buffer_size'], 65535)
        self.limit_post = dcfg['limit_post']
        self.strip_script_name = dcfg['manage_script_name']
        self.mounts = mount_prefixes(dcfg['mounts'])
        # static-map / static-from-django mountpoints: requests below them go to the master.
        # Kept without a trailing '/', so the mountpoint '/' is '' and needs no case of its own.
        self.static_prefixes = static_prefixes_of(dcfg.get('static_prefixes', ()))
        self.date = HttpDate()
        self.ready = ReadyQueue()
        self.reports = DirectReport(dcfg, threads, channel_send)
        # One thread holds every connection this worker waits on or relays (event_loop.py).
        self.loop = EventLoop(ACCEPT_POLL_S, 'berth-direct-waiter', log)
        self.relays = Relays(self.loop, dcfg['relay_path'], dcfg['token'], log, timeouts.read_s)
        self.waiter = Waiter(self.loop, self.examine, self.relay_from_waiter, self.ready, timeouts.read_s, log)
        self.lingering = Lingering(self.loop, timeouts.read_s)
        self.queue_watch = ListenQueueWatch(listeners, log)
        # A kept connection stays with the worker that accepted it: past this many held, the
        # next response closes, so no worker gathers the front's connections while others idle.
        self.kept_max = KEPT_PER_THREAD * threads
        self.acceptor = Acceptor(listeners, threads, dcfg['batch'], log, self.handle, timeouts,
                                 self.ready, self.serve_ready, self.waiter.holds)
        self.acceptor.handle_kept = self.serve_kept
        self.acceptor.to_waiter = self.hold_kept

    @property
    def stopping(self):
        return self.acceptor.stopping

    def serve(self):
        """Runs the accept loops; returns once stopped and every direct request is done."""
        HelperThread(self.reports.report_loop, 'berth-direct-report').start()
        HelperThread(self.queue_watch.run, 'berth-listen-queue', (lambda: self.acceptor.stopping,)).start()
        self.loop.start()
        self.acceptor.serve()
        self.hand_over_waiting()
        self.relays.join(RELAY_EXIT_WAIT_S)
        self.reports.report()

    def hand_over_waiting(self):
        """At exit: requests not served yet, whole or not, go on to the master (the next
        generation serves them)."""
        handed = threading.Event()
        self.loop.call(self.waiter.hand_over_all, handed.set)
        handed.wait(RELAY_EXIT_WAIT_S)
        while True:
            item = self.ready.take()
            if item is None:
                return
            self.relay(*item[:2] + item[3:])

    def request_stop(self):
        """SIGTERM / SHUTDOWN: stop accepting; requests under way finish."""
        self.acceptor.request_stop()

    def timeout_answers(self):
        self.reports.timeout_answers()

    def is_running(self, req):
        """For the harakiri dump: a direct request is on a stack only while it runs."""
        return True

    # -- one connection

    def handle(self, conn, peer, unix, index):
        try:
            self.serve_connection(conn, peer, unix, index)
        except Exception:
            self.connection_failed(conn, index)

    def connection_failed(self, conn, index):
        self.log('direct connection on socket %d failed: %s' % (index, traceback.format_exc()))
        try:
            conn.close()
        except OSError:
            pass

    def serve_connection(self, conn, peer, unix, index):
        """The peer check, then what the peer has sent: a whole request is served at once,
        anything else is the waiter's or the master's, so this thread never waits on a peer."""
        peer_host, peer_port = (peer[0], peer[1]) if not unix and isinstance(peer, tuple) else ('', 0)
        if not unix and not is_loopback(peer_host):
            return self.relay(conn, b'', index, peer_host, peer_port)  # the master judges it
        try:
            data = conn.read_first()
        except OSError:
            conn.close()
            return
        if data is None:
            return self.waiter.adopt(conn, b'', 1, index, peer_host, peer_port)
        if not data:
            conn.close()  # a probe that connected and left
            return
        self.dispatch(conn, data, index, peer_host, peer_port)

    def serve_kept(self, conn, data, index, peer_host, peer_port):
        """The next packet on a kept connection (the accept loop's, direct_accept.py): as on a
        new connection from the same peer, whose check it passed at accept."""
        try:
            self.dispatch(conn, data, index, peer_host, peer_port)
        except Exception:
            self.connection_failed(conn, index)

    def dispatch(self, conn, data, index, peer_host, peer_port):
        """A whole request is served at once; one not yet whole is the waiter's; anything else the master's."""
        verdict, what = self.examine(data)
        if verdict == SERVE:
            return self.run(conn, data, what, index, peer_host, peer_port)
        if verdict == NEED_MORE:
            return self.waiter.adopt(conn, data, what, index, peer_host, peer_port)
        self.relay(conn, data, index, peer_host, peer_port)

    def hold_kept(self, conn, index, peer_host, peer_port):
        """A kept connection idle until its front's next packet, held by the waiter."""
        self.waiter.adopt(conn, b'', 1, index, peer_host, peer_port, True)

    def examine(self, data):
        """What to do with the bytes a connection has sent so far: (SERVE, (modifier1, size,
        vars, length)) for a plain WSGI request, whole; (NEED_MORE, how many bytes to wait
        for before looking again); (RELAY, None) for everything the master must judge."""
        if data[0] not in (0, 30):
            return RELAY, None
        n = len(data)
        if n < 4:
            return NEED_MORE, 4
        modifier1, size, modifier2 = UWSGI_PACKET_HEAD.unpack_from(data)
        if size > self.max_vars or modifier2 != 0:
            return RELAY, None
        if n < 4 + size:
            return NEED_MORE, 4 + size
        vars_ = parse_uwsgi_vars(data, 4, 4 + size, self.base_without_script_name.copy())
        if vars_ is None:
            return RELAY, None
        length = packet_content_length(vars_)
        if length is None or (self.limit_post and length > self.limit_post):
            return RELAY, None
        whole = 4 + size + length
        if n > whole or whole > MAX_BUFFERED_BYTES:
            return RELAY, None
        if self.static_prefixes is not None and for_static_stage(self.static_prefixes, vars_):
            return RELAY, None
        if n < whole:
            return NEED_MORE, whole
        return SERVE, (modifier1, size, vars_, length)

    def serve_ready(self, item):
        """A request the waiter collected whole."""
        conn, data, what, index, peer_host, peer_port = item[:6]
        try:
            self.run(conn, data, what, index, peer_host, peer_port)
        except Exception:
            self.log('direct connection failed: %s' % traceback.format_exc())
            try:
                conn.close()
            except OSError:
                pass

    def relay(self, conn, data, index, peer_host, peer_port):
        """Hands the connection to the master (relay.py)."""
        self.relays.start(conn, data, index, peer_host, peer_port)

    def relay_from_waiter(self, conn, data, index, peer_host, peer_port):
        self.relay(conn, data, index, peer_host, peer_port)

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
            script_name, path_info = split_script_name(script_name + path_info, self.mounts)
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

    def run(self, conn, data, what, index, peer_host, peer_port):
        started = time.monotonic()
        modifier1, size, vars_, length = what
        token = offered_token(vars_) if KEEPALIVE_VAR in vars_ else None
        if token is not None and len(self.waiter.waiting) + len(self.acceptor.kept) >= self.kept_max:
            token = None  # this worker holds its share: one-shot, so the front's next connection may reach another worker
        env = self.environ(vars_, modifier1, length)
        env['wsgi.input'] = DirectInput(data[4 + size:]) if length > 0 else EMPTY_INPUT
        if token is None:
            req = DirectRequest(env, self, conn, self.date, env['REQUEST_METHOD'] == 'HEAD')
        else:
            req = KeptUwsgiRequest(env, self, conn, self.date, env['REQUEST_METHOD'] == 'HEAD', token)
        ident = threading.get_ident()
        running = self.reports.running
        running[ident] = (started, req)
        gate = self.gate
        gate.acquire()
        try:
            serve_request(self.app, req)
        finally:
            gate.release()
            running.pop(ident, None)
        if token is not None and req.kept() and not self.stopping:
            # The front keeps it for its next request: the waiter holds it meanwhile, so no
            # thread waits on it, and at a stop it goes to the master with the rest.
            if not self.acceptor.keep(conn, index, peer_host, peer_port):
                self.acceptor.stop_waiting_in_accept()
                self.hold_kept(conn, index, peer_host, peer_port)
            self.reports.done(req, started, data, size, modifier1)
            return
        try:
            self.lingering.close(conn)  # a FIN, not a reset, when the peer sent more (lingering.py)
        except OSError:
            pass
        self.reports.done(req, started, data, size, modifier1)
