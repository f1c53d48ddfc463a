"""The channel to the master: opened, connected (HELLO), watched for EOF, READY sent.

Opening it (fd N, or a forked worker's connection with
HELLO), noticing it close (the EOF watchdog), and READY with the first MODULES."""

import os
import platform
import select
import socket
import sys

from .config import BootFailure
from .threads import HelperThread
from .wire import HELLO, MODULES, READY, json_frame


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


def ready_info(cfg):
    ready = {'pid': os.getpid(), 'executable': sys.executable, 'version': platform.python_version(),
             'threads': cfg['threads'], 'sys_path': list(sys.path)}
    if cfg['django_static']:
        from .django_static import django_static_info  # only apps that asked for it
        django = django_static_info()
        if django is not None:
            ready['django'] = django
    return ready


def announce(sock, ready, reporter, lifeline):
    """READY, then (py-autoreload) the first MODULES; a closed channel means the master
    is gone."""
    try:
        sock.sendall(json_frame(0, READY, ready))
        if reporter is not None:
            sock.sendall(json_frame(0, MODULES, reporter.scan()[0]))
    except OSError:
        lifeline.gone()
