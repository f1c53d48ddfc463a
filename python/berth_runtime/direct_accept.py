"""Accept loops on the uwsgi sockets the master handed over (direct path).

A blocking accept loop (threads
== 1, one socket) or select() loops in every thread, each handing a connection to the
direct server, and taking the requests the waiter collected whole (direct_waiter.py);
once a Berth front keeps connections, the one-thread loop becomes an epoll loop that also
watches them (serve_keeping); SCHED_BATCH for these threads; a stop that reaches them all."""

import os
import select
import threading
import time

from .direct_io import ACCEPT_POLL_S, RawConn, batch_scheduling, unblocked
from .threads import HelperThread, run_signal_handlers


class Acceptor(object):
    """threads == 1: the main thread blocks in accept(), which returns every ACCEPT_POLL_S
    (SO_RCVTIMEO on the listening socket) to look at `stopping`.  No signal handler may raise
    out of accept(): a signal that lands just after accept() returned would lose the accepted
    connection, and the peer would get a reset.  threads > 1: every thread waits in select()
    on the sockets and a wake-up pipe, so a stop reaches them all."""

    def __init__(self, listeners, threads, batch, log, handle, timeouts, ready, serve_ready, waiter_holds):
        self.listeners = listeners  # [(socket, unix, index)]
        self.threads = threads
        self.batch = batch
        self.batch_refused = False
        self.log = log
        self.handle = handle  # handle(conn, peer, unix, index)
        self.timeouts = timeouts
        self.ready = ready  # the waiter's ReadyQueue
        self.serve_ready = serve_ready  # serve_ready(item)
        self.waiter_holds = waiter_holds  # waiter_holds(): connections the waiter may still make ready
        self.stopping = False
        self.lock = threading.Lock()
        # Held from a look at `stopping` through the accept in threads > 1 (accepting_stopped).
        self.accept_lock = threading.Lock()
        self.on_accept_stopped = None  # main.py: tells the master once no accept can follow a stop
        self.wake_r, self.wake_w = os.pipe()
        self.acceptors = []
        self.accept_waits = True
        # Keep-alive from a Berth front (uwsgi_kept_request.py), with one thread on one socket:
        # the accept loop watches the kept connections itself (serve_keeping), in an epoll
        # made at the first one.  fd -> (conn, index, peer_host, peer_port, idle since).
        self.kept = {}
        self.kept_poll = None
        self.loop_ident = None
        self.handle_kept = None  # handle_kept(conn, data, index, peer_host, peer_port): the direct server's
        self.to_waiter = None  # to_waiter(conn, index, peer_host, peer_port): a kept connection the waiter holds

    def serve(self):
        """Runs the accept loops; returns once stopped and every accept thread is done."""
        if self.threads == 1 and len(self.listeners) == 1:
            self.accept_blocking(self.listeners[0])
        else:
            for i in range(1, self.threads):
                t = HelperThread(self.accept_selecting, 'berth-direct-%d' % i)
                t.start()
                self.acceptors.append(t)
            self.accept_selecting()
        self.accepting_stopped()
        # Each acceptor finishes the request it is serving, then sees `stopping`.
        for t in self.acceptors:
            t.join()

    def accept_blocking(self, listener):
        sock, unix, index = listener
        self.enter_batch()
        accept = sock._accept  # (fd, address): see RawConn
        handle = self.handle
        timeouts = self.timeouts
        ready = self.ready
        waiter_holds = self.waiter_holds
        waiting = [sock, self.wake_r, ready.fd]
        self.loop_ident = threading.get_ident()
        while not self.stopping:
            if self.kept_poll is not None:
                return self.serve_keeping(listener)
            # Blocked in accept(), this thread would not see the waiter's requests: while the
            # waiter may make one, wait on both.  (holds() first: a request is queued before
            # its connection counts as settled.)
            if (waiter_holds() or ready.items) and sock not in self.select_ready(waiting):
                continue
            try:
                fd, peer = accept()
            except BlockingIOError:
                # Idle for ACCEPT_POLL_S: look at `stopping`.  (If a generation with threads > 1
                # made the shared socket non-blocking, EAGAIN comes at once: select, not spin.)
                self.select_ready(waiting)
                continue
            except OSError as e:
                self.accept_failed(e)
                continue
            unblocked(fd)
            handle(RawConn(fd, unix, timeouts), peer, unix, index)

    def stop_waiting_in_accept(self):
        """Once a Berth front keeps connections here (uwsgi_kept_request.py): the blocking
        accept loop must not sit in accept() for ACCEPT_POLL_S after another worker took the
        connection it was woken for, while requests on kept connections wait; a non-blocking
        listener sends it back to select() at once (as one made non-blocking by a generation
        with threads > 1 does).  New connections are rare then, so the wake-up of every worker
        on one costs little.  The flag is the socket's: every worker sharing it sees it."""
        if not self.accept_waits:
            return
        self.accept_waits = False
        for sock, _, _ in self.listeners:
            try:
                os.set_blocking(sock.fileno(), False)
            except OSError:
                pass

    def keep(self, conn, index, peer_host, peer_port):
        """A connection a Berth front keeps, back from its response.  The one-thread accept
        loop watches it in its own epoll (EPOLLONESHOT: re-armed with one epoll_ctl per request;
        measured: through the waiter's thread a kept request cost the backend 1.7x the CPU of a
        new connection, docs/benchmarks.md s10B).  False from any other thread: the waiter takes it."""
        if threading.get_ident() != self.loop_ident or self.stopping:
            return False
        self.stop_waiting_in_accept()
        if self.kept_poll is None:
            self.kept_poll = select.epoll()
        fd = conn.fd
        mask = select.EPOLLIN | select.EPOLLONESHOT
        try:
            # A descriptor served from here is still registered (disarmed); a new one is not.
            # A disarmed registration left by a connection that closed is the old file's, and
            # goes with it.
            self.kept_poll.modify(fd, mask)
        except OSError:
            self.kept_poll.register(fd, mask)
        self.kept[fd] = (conn, index, peer_host, peer_port, time.monotonic())
        return True

    def serve_keeping(self, listener):
        """The accept loop once connections are kept: one epoll over the socket, the waiter's
        requests, the stop pipe and the kept connections; idle ones closed after socket-timeout;
        at a stop, the kept ones go to the waiter, which hands them to the master."""
        sock, unix, index = listener
        poll = self.kept_poll
        sock_fd, ready_fd, wake_fd = sock.fileno(), self.ready.fd, self.wake_r
        for fd in (sock_fd, ready_fd, wake_fd):
            poll.register(fd, select.EPOLLIN)
        kept = self.kept
        idle_s = self.timeouts.read_s
        swept = time.monotonic()
        while not self.stopping:
            events = poll.poll(ACCEPT_POLL_S)
            if not events:
                run_signal_handlers()
            for fd, _ in events:
                if fd == sock_fd:
                    # A worker started since (a respawn, a new generation) sets the shared
                    # socket blocking again: woken with the others for one connection, a loser
                    # would then sit in accept() for ACCEPT_POLL_S while its kept requests wait.
                    os.set_blocking(sock_fd, False)
                    self.handle_accepted(self.try_accept(sock), unix, index)
                elif fd == ready_fd:
                    self.take_ready()
                elif fd != wake_fd:
                    entry = kept.pop(fd, None)
                    if entry is not None:
                        self.serve_kept(entry)
            now = time.monotonic()
            if now - swept >= ACCEPT_POLL_S:
                swept = now
                for fd in [fd for fd, e in kept.items() if now - e[4] >= idle_s]:
                    kept.pop(fd)[0].close()  # its front had let it go; closing says so
        for conn, i, host, port, _ in list(kept.values()):
            self.to_waiter(conn, i, host, port)
        kept.clear()

    def serve_kept(self, entry):
        conn, index, peer_host, peer_port, _ = entry
        try:
            data = conn.read_first()
        except OSError:
            data = b''
        if data is None:  # woken for nothing: watch it again
            self.keep(conn, index, peer_host, peer_port)
        elif not data:
            conn.close()  # the front closed it
        else:
            self.handle_kept(conn, data, index, peer_host, peer_port)

    def select_ready(self, waiting):
        """Waits on the socket, the waiter's requests and a stop (ACCEPT_POLL_S at most);
        serves one waiter request if there is one; returns what was readable."""
        readable = select.select(waiting, [], [], ACCEPT_POLL_S)[0]
        if self.ready.fd in readable:
            self.take_ready()
        elif not readable:
            run_signal_handlers()
        return readable

    def accept_selecting(self):
        self.enter_batch()
        socks = [l[0] for l in self.listeners]
        by_sock = dict((l[0], l) for l in self.listeners)
        ready_fd = self.ready.fd
        waiting = socks + [self.wake_r, ready_fd]
        accept_lock = self.accept_lock
        while not self.stopping:
            readable = select.select(waiting, [], [], ACCEPT_POLL_S)[0]
            if not readable:
                run_signal_handlers()
            for s in readable:
                if s is self.wake_r or self.stopping:
                    continue
                if s is ready_fd:
                    self.take_ready()
                    continue
                with accept_lock:
                    if self.stopping:
                        break
                    accepted = self.try_accept(s)
                _, unix, index = by_sock[s]
                self.handle_accepted(accepted, unix, index)

    def try_accept(self, sock):
        """(fd, peer) from a non-blocking accept, or None: another worker took it, or it failed."""
        try:
            return sock._accept()
        except (BlockingIOError, InterruptedError):
            return None  # another worker took it
        except OSError as e:
            self.accept_failed(e)
            return None

    def handle_accepted(self, accepted, unix, index):
        if accepted is not None:
            fd, peer = accepted
            unblocked(fd)
            self.handle(RawConn(fd, unix, self.timeouts), peer, unix, index)

    def accepting_stopped(self):
        """The main thread's accept loop saw the stop (the one-thread loops accept in this thread
        only); another thread's accept under way ends first and any later one sees `stopping`,
        so no accept can follow: the master learns it (a reload reports the new generation
        serving only once the retiring workers take no connection)."""
        with self.accept_lock:
            pass
        if self.on_accept_stopped is not None:
            self.on_accept_stopped()

    def take_ready(self):
        """Serves one request the waiter collected, unless another thread took it first."""
        item = self.ready.take()
        if item is not None:
            self.serve_ready(item)

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
