"""The worker's main: boot, then serve, or become the zygote (preload, or lazy-apps' parent).

Boot, then serve (framed, and direct when configured) or, in preload mode, become the zygote.
In lazy-apps mode ("lazy-zygote") the zygote forks before the app is imported and each worker
boots it itself, so the workers still live under the zygote, their subreaper (subreaper.py).
Optional parts are imported only when the config asks for them."""

import gc
import json
import os
import signal
import sys

from .boot import boot, report_boot_failure
from .channel import announce, connect_channel, open_channel, ready_info, start_eof_watchdog
from .config import BootFailure, read_config
from .environ import ErrorStream, base_environ
from .exits import EXIT_OK, EXIT_USAGE
from .harakiri import dump_stacks
from .lifeline import Lifeline, leads_own_group
from .stderr_log import make_logger
from .threads import HelperThread
from .wire import ProtocolError


def framed_server(sock, app, base, log, cfg, lifeline):
    """The framed server for the configured threads (each strategy in its own module)."""
    if cfg['threads'] == 1:
        from .framed_inline import InlineServer
        return InlineServer(sock, app, base, log, lifeline)
    from .framed_threaded import ThreadedServer
    return ThreadedServer(sock, app, base, log, cfg['threads'], lifeline)


def import_servers(cfg, listening, http=None):
    """Imports the server modules serve_worker() will use with this config."""
    if listening or http or cfg['threads'] > 1:
        from . import framed_threaded  # noqa: F401
    else:
        from . import framed_inline  # noqa: F401
    if listening:
        from . import direct_server  # noqa: F401


def import_before_privileges(cfg, listening, http=None):
    """Every runtime module this config will use, imported before boot() drops privileges: the
    uid/gid may not be able to read this package (a checkout in a 0700 home or temporary
    directory).  The same modules a lazy import would load later; nothing more."""
    import_servers(cfg, listening, http)
    if cfg['mode'] != 'worker':
        from . import zygote  # noqa: F401
    if cfg['py_autoreload'] > 0:
        from . import autoreload  # noqa: F401
    if cfg['django_static']:
        from . import django_static  # noqa: F401
    if cfg['django_check']:
        from . import django_check  # noqa: F401
    if cfg['reload_on_rss'] > 0:
        from . import memory_guard  # noqa: F401


def direct_servers(sock, app, base, log, cfg, lifeline, listening, ready):
    """config "direct": the framed server (HTTP ports, relayed connections) as threads beside
    the direct server's accept loop, which owns the main thread; they share one gate."""
    from .direct_io import Gate
    from .direct_server import DirectServer
    from .framed_threaded import ThreadedServer
    listeners, timeouts = listening
    server = ThreadedServer(sock, app, base, log, cfg['threads'], lifeline)
    server.gate = Gate(cfg['threads'])
    dcfg = dict(cfg['direct'])
    if 'django' in ready:
        from .django_static import django_mountpoints
        dcfg['static_prefixes'] = list(dcfg['static_prefixes']) + django_mountpoints(ready['django'])
    direct = DirectServer(listeners, app, base, log, dcfg, cfg['threads'], server.gate, server.control_sender(),
                          timeouts)
    # SHUTDOWN arrives on the reader thread; only the main thread can leave accept().
    server.on_stop = lambda: os.kill(os.getpid(), signal.SIGTERM) if not direct.stopping else None
    return server, direct


def arm_memory_guard(limit_bytes, server, direct, log):
    """reload-on-rss checked after every request (memory_guard.py): once over, RECYCLE to the
    master, which stops routing to us and replaces us; a direct server stops accepting."""
    from .memory_guard import MemoryGuard
    from .wire import RECYCLE, frame

    def over(rss, limit):
        log('RSS %d MB is over reload-on-rss = %d MB: asking the master for a replacement'
            % (rss // (1 << 20), limit // (1 << 20)))
        try:
            server.send_parts((frame(0, RECYCLE, json.dumps({'rss': rss, 'limit': limit}).encode()),))
        except OSError:
            pass  # the master is gone: the lifeline ends us
        if direct is not None:
            direct.request_stop()

    try:
        guard = MemoryGuard(limit_bytes, over, log)
    except (OSError, ImportError) as e:
        log('warning: reload-on-rss is checked only by the master here (no /proc/self/statm: %s)' % e)
        return
    if guard.tripped:  # already over at start (the guard said why): no check after each request
        os.close(guard.statm_fd)
        return
    server.memory_guard = guard
    if direct is not None:
        direct.memory_guard = guard


def http_direct_server(server, app, base, log, cfg, http, ready):
    """http-direct: the direct HTTP server beside the framed one, sharing its gate."""
    from .direct_io import Gate
    from .http_direct import HttpDirect
    from .http_handoff import HandOff
    hcfg, listeners, node_fd = http
    hcfg = dict(hcfg)
    if 'django' in ready:
        from .django_static import django_mountpoints
        hcfg['static_prefixes'] = list(hcfg['static_prefixes']) + django_mountpoints(ready['django'])
    if server.gate is None:
        server.gate = Gate(cfg['threads'])
    return HttpDirect(listeners, app, base, log, hcfg, cfg['threads'], server.gate, server.control_sender(),
                      HandOff(node_fd, log))


def confirm_accept_stopped(server, parts):
    """A callable each of `parts` direct servers calls once it accepts no more: the last call
    sends ACCEPT_STOPPED (a reload reports the new generation serving only after it)."""
    from .wire import ACCEPT_STOPPED, frame
    tokens = list(range(parts))

    def one_stopped():
        if tokens.pop() != 0:  # pop is atomic: one caller gets the last token
            return
        # From a thread of its own: the caller may be a signal handler, which must not wait for
        # the channel's send lock that the code it interrupted may hold.
        HelperThread(lambda: server.send_parts((frame(0, ACCEPT_STOPPED),)), 'berth-accept-stopped').start()
    return one_stopped


def serve_worker(sock, app, cfg, lifeline, reporter, announce_modules, listening=None, http=None):
    """READY (and MODULES), then serve until SHUTDOWN or SIGTERM; the exit code.
    `listening`: open_direct_listeners()'s (listeners, timeouts) for config "direct", or None;
    `http`: (http-direct config, its listeners, Node's channel descriptor), or None."""
    log = make_logger(sys.stderr)
    base = base_environ(cfg['threads'], cfg['processes'], ErrorStream(sys.stderr))
    ready = ready_info(cfg)  # with static-from-django, Django's settings: read once, used twice
    direct = None
    if listening:
        server, direct = direct_servers(sock, app, base, log, cfg, lifeline, listening, ready)
    elif http:
        from .framed_threaded import ThreadedServer
        server = ThreadedServer(sock, app, base, log, cfg['threads'], lifeline)
    else:
        server = framed_server(sock, app, base, log, cfg, lifeline)
    hd = http_direct_server(server, app, base, log, cfg, http, ready) if http else None
    if hd is not None and direct is None:
        server.on_stop = lambda: os.kill(os.getpid(), signal.SIGTERM) if not hd.stopping else None

    reporters = [d.reports for d in (direct, hd) if d is not None]
    if reporters:
        accept_stopped = confirm_accept_stopped(server, len(reporters))
        if direct is not None:
            direct.acceptor.on_accept_stopped = accept_stopped
        if hd is not None:
            hd.on_accept_stopped = accept_stopped
        server.on_report = lambda: [r.report() for r in reporters]

    def on_term(signum, frm):
        if lifeline.master_gone():
            lifeline.gone()
        if direct is not None or hd is not None:
            server.on_stop = None
        server.request_stop()
        if direct is not None:
            direct.request_stop()  # the accept loop sees it within ACCEPT_POLL_S
        if hd is not None:
            hd.request_stop()

    def on_usr2(signum, frm):
        dump_stacks(frm)
        if direct is not None:
            direct.timeout_answers()
        if hd is not None:
            hd.timeout_answers()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR2, on_usr2)
    if cfg['reload_on_rss'] > 0 and not cfg['check']:
        arm_memory_guard(cfg['reload_on_rss'], server, direct or hd, log)
        if direct is not None and hd is not None:
            hd.memory_guard = direct.memory_guard
    announce(sock, ready, reporter if announce_modules else None, lifeline)
    if cfg['check']:
        return EXIT_OK
    if reporter is not None:
        from .autoreload import start_module_reporter
        start_module_reporter(reporter, server.control_sender(), cfg['py_autoreload'])
    try:
        if direct is None and hd is None:
            server.serve()
        else:
            HelperThread(server.serve, 'berth-framed').start()
            if direct is not None and hd is not None:
                HelperThread(hd.serve, 'berth-http').start()
                direct.serve()
            else:
                (direct or hd).serve()
            server.wait_done()
    except ProtocolError as e:
        log('protocol error from the master: %s' % e)
        return EXIT_USAGE
    return EXIT_OK


def open_http_direct(cfg, environ):
    """config "http_direct" (its listeners, and Node's IPC channel in NODE_CHANNEL_FD):
    (that config, the listeners, the channel's descriptor), or None."""
    hcfg = cfg['http_direct']
    if hcfg is None:
        return None
    from .http_listeners import open_http_listeners
    from .http_handoff import take_channel_fd
    node_fd = take_channel_fd(environ)
    if node_fd is None:
        raise BootFailure('config', 'http-direct: the master passed no IPC channel (NODE_CHANNEL_FD)')
    return hcfg, open_http_listeners(hcfg), node_fd


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
        listening = None
        if cfg['direct'] is not None:
            from .direct_io import open_direct_listeners
            listening = open_direct_listeners(cfg)
        http = open_http_direct(cfg, os.environ)
        lifeline.group_leader = leads_own_group(cfg)
        if lifeline.group_leader:
            lifeline.start_guardian()  # before the import: its subprocesses count too
        import_before_privileges(cfg, listening, http)
        lazy = cfg['mode'] == 'lazy-zygote'
        app = None if lazy else boot(cfg, lifeline)  # lazy: each forked worker boots
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
    reporter = None
    if cfg['py_autoreload'] > 0 and not lazy:
        from .autoreload import ModuleReporter
        reporter = ModuleReporter()
    if cfg['mode'] == 'worker':
        return serve_worker(sock, app, cfg, lifeline, reporter, True, listening, http)
    stop_watchdog()
    import_servers(cfg, listening, http)  # once, here: the forked workers share the pages
    from .zygote import run_zygote
    zygote = os.getpid()
    counts = None
    if http and cfg['processes'] > 1:
        from .worker_shares import SharedCounts
        counts = SharedCounts(cfg['processes'])  # before the forks: the workers share its page
    slot, code = run_zygote(sock, cfg, lifeline, reporter, http[2] if http else None)
    if slot is None:
        return code
    if counts is not None:
        http = (dict(http[0], share=counts.of(slot)),) + tuple(http[1:])
    # A forked worker from here on; its parent is the zygote, which owns the group.
    lifeline = Lifeline(zygote, False)
    lifeline.rearm()
    try:
        sock = connect_channel(cfg['channel_path'], slot, cfg['token'])
    except BootFailure as failure:
        return report_boot_failure(None, failure)
    start_eof_watchdog(sock, lifeline.gone)
    if lazy:
        if cfg['own_group']:
            # As a spawned lazy-apps worker did: a group of its own with a guardian, so what the
            # app starts in it dies with this worker (harakiri, a crash), not only with the zygote.
            os.setpgid(0, 0)
            lifeline.group_leader = True
            lifeline.start_guardian()
        try:
            app = boot(cfg, lifeline)
        except BootFailure as failure:
            return report_boot_failure(sock, failure)
        if cfg['py_autoreload'] > 0:
            from .autoreload import ModuleReporter
            reporter = ModuleReporter()
    return serve_worker(sock, app, cfg, lifeline, reporter, lazy, listening, http)


def launch(argv):
    """The launcher's whole job: run main() and leave with its exit code."""
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    if code == EXIT_OK:
        sys.exit(0)
    os._exit(code)
