"""reload-on-rss in the worker: after each request, is resident memory past the limit?

Theory of operation
-------------------
The master's watchdog reads every worker's RSS about once a second; a worker that leaks
a few MB per request goes far past the limit in that second.  So the worker looks itself,
after every request, where both serving paths meet (wsgi_core.serve_request).  The look is
cheap: getrusage()'s ru_maxrss (the peak RSS, one system call, no file) is never below the
current RSS, so while the peak is under the limit nothing else is read.  Only once the
peak passed it is the current RSS read from /proc/self/statm (the master reads the same
field, so both count shared pages alike).  When the current RSS is over, `over(rss, limit)`
runs once: the worker tells the master (RECYCLE) and stops taking requests.

A worker whose RSS is already over the limit when it starts serving (an app that needs
more than reload-on-rss at boot) would be replaced after every request: for it the check
stays off, a warning says why, and the master's watchdog (with min-worker-lifetime) decides.
"""

import os
import resource

# ru_maxrss is in KiB on Linux.
_KIB = 1024


def read_rss_bytes(statm_fd, page_size):
    """Current RSS from an open /proc/self/statm (its second field, in pages)."""
    return int(os.pread(statm_fd, 128, 0).split()[1]) * page_size


class MemoryGuard(object):
    """after_request() checks the RSS against `limit_bytes`; `over(rss, limit)` is called
    at most once, from whichever request thread saw it first."""

    __slots__ = ('limit_bytes', 'limit_kib', 'over', 'statm_fd', 'page_size', 'tripped', '_getrusage')

    def __init__(self, limit_bytes, over, log):
        self.limit_bytes = limit_bytes
        self.limit_kib = limit_bytes // _KIB
        self.over = over
        self.page_size = os.sysconf('SC_PAGE_SIZE')
        self.tripped = False
        self._getrusage = resource.getrusage
        # Opened in the serving process itself: /proc/self would name the zygote after a fork.
        self.statm_fd = os.open('/proc/self/statm', os.O_RDONLY | os.O_CLOEXEC)
        rss = read_rss_bytes(self.statm_fd, self.page_size)
        if rss >= limit_bytes:
            self.tripped = True
            log('warning: this worker already uses %d MB after loading the app, more than '
                'reload-on-rss = %d MB; it is not checked after each request (the master\'s '
                'once-a-second check, after min-worker-lifetime, still applies)'
                % (rss // (1 << 20), limit_bytes // (1 << 20)))

    def after_request(self):
        if self.tripped or self._getrusage(resource.RUSAGE_SELF).ru_maxrss < self.limit_kib:
            return
        rss = read_rss_bytes(self.statm_fd, self.page_size)
        if rss >= self.limit_bytes and not self.tripped:
            self.tripped = True
            self.over(rss, self.limit_bytes)
