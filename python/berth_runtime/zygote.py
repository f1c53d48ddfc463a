"""The zygote: forks workers on the master's command, and is their subreaper.

Preload ("zygote"): it holds the imported app, so its workers share its pages.  lazy-apps
("lazy-zygote"): it imports nothing of the app and each forked worker boots it itself.  Either
way it forks on FORK, reports FORKED and, once reaped, EXITED.  Imported only in those modes."""

import os
import select
import signal
import sys
import threading
import time

from .channel import announce, ready_info
from .exits import EXIT_OK, EXIT_USAGE
from .stderr_log import make_logger
from .subreaper import become_subreaper, children_of, reap_adopted, sweep
from .http_handoff import drain_acks, wait_taken
from .wire import EXITED, FORK, FORKED, RECV_BYTES, SHUTDOWN, FrameReader, ProtocolError, json_frame


# How long the zygote may spend killing its subtree once the master is gone.
SWEEP_BUDGET_S = 3.0
# How long a stopping zygote waits for the master to read the hand-overs still queued on Node's
# IPC channel (http_handoff.wait_taken); under the 3 s the master gives it before SIGKILL.
HANDED_TAKEN_S = 2.0
# How long Node's channel goes unwatched after the zygote read its ACKs: short enough that the
# ACKs of the busiest hand-over rate stay far under the channel's buffer (278 ACK lines fill the
# master's end at Linux's default 208 KiB; the master hands over at most ~7,000 connections a
# second, 35 in 5 ms), and Node queues its writes, never drops them, if it filled meanwhile.
ACK_PAUSE_S = 0.005


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
    serves a request: any frame but FORK and SHUTDOWN is a protocol error.

    On Linux the zygote is also its subtree's subreaper (subreaper.py): a process the app
    starts with setsid, or double-forks, is handed to us when its parent dies, and when the
    master is gone we SIGKILL the whole subtree before we leave."""

    def __init__(self, sock, lifeline, log, node_fd=None):
        self.sock = sock
        # http-direct: Node's IPC channel, which the workers hand connections over; the zygote
        # reads and drops Node's ACK lines on it (http_handoff.drain_acks).
        self.node_fd = node_fd
        self.acks_at = 0.0  # when Node's channel is watched again (_wait)
        self.lifeline = lifeline
        self.log = log
        self.reader = FrameReader()
        self.children = {}  # pid -> slot
        self.term = False
        self.wake_r = self.wake_w = -1
        self.subreaper = False
        self.app_children = frozenset()  # started while the app imported: the app's to wait for

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
        self.app_children = frozenset(children_of(os.getpid()))
        self.subreaper = become_subreaper()
        if self.subreaper:
            # No parent-death signal: SIGKILL would leave no time to sweep, and any signal
            # comes when the master's main *thread* exits, while getppid() still names the
            # master (another of its threads adopts us first), so it cannot be told from a
            # graceful SIGTERM.  The master's death reaches us as EOF on the channel.
            self.lifeline.rearm(0)
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
        if self.subreaper:
            reap_adopted(self.app_children.union(self.children))

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
        if self.node_fd is not None and not wait_taken(self.node_fd, HANDED_TAKEN_S):
            self.log('the master did not take the connections the workers handed over within %g s; '
                     'exiting (those connections close)' % HANDED_TAKEN_S)
        return EXIT_OK

    def master_gone(self):
        if self.subreaper:
            if not sweep(SWEEP_BUDGET_S):
                self.log('the master is gone; some processes below the zygote did not die within %g s '
                         '(uninterruptible sleep?)' % SWEEP_BUDGET_S)
        elif not self.lifeline.group_leader:
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
        """Block until the control channel or the self-pipe is readable (or, with http-direct,
        Node's channel); reap on a signal.  Node writes an ACK per handed-over connection: after
        a read of them the channel is left unwatched for ACK_PAUSE_S, so a burst of hand-overs
        wakes the zygote a few hundred times a second at most, not once per connection."""
        while True:
            watched = [self.sock, self.wake_r]
            timeout = None
            if self.node_fd is not None:
                timeout = self.acks_at - time.monotonic()
                if timeout <= 0:
                    watched.append(self.node_fd)
                    timeout = None
            readable = select.select(watched, [], [], timeout)[0]
            if readable:
                break
        if self.node_fd is not None and self.node_fd in readable:
            if drain_acks(self.node_fd):
                self.acks_at = time.monotonic() + ACK_PAUSE_S
            else:
                self.node_fd = None  # the master's end closed: its death shows on the channel
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


def run_zygote(sock, cfg, lifeline, reporter, node_fd=None):
    """READY {"zygote": true}, MODULES, then fork on command: (slot, None) in a forked
    child, (None, exit code) in the zygote."""
    log = make_logger(sys.stderr)
    lazy = cfg['mode'] == 'lazy-zygote'
    # lazy-apps: no app here, so no Django settings to read; each worker's READY has its own.
    ready = ready_info(dict(cfg, django_static=False) if lazy else cfg)
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
        return Zygote(sock, lifeline, log, node_fd).run()
    except ProtocolError as e:
        log('protocol error from the master: %s' % e)
        return None, EXIT_USAGE

