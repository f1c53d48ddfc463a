"""Helper threads that leave signals to the main thread; pending handlers run.

CPython 3.9-3.11 can lose the main thread's wake-up when another thread recomputes the
eval breaker, so an idle main thread runs pending handlers itself."""

import signal
import threading

# How often an idle main thread runs handlers a lost wake-up left waiting (run_signal_handlers).
SIGNAL_CHECK_S = 0.25

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
