"""py-autoreload: which source files the loaded modules came from (MODULES frames).

The source files of the loaded modules, sent to the master in MODULES
(it watches them and reloads).  Imported only when py_autoreload > 0."""

import importlib.util
import os
import sys
import time

from .threads import HelperThread
from .wire import MODULES, json_frame

# Berth's own files (this package and the launcher beside it) are not the app's.
RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(os.path.dirname(RUNTIME_DIR), 'berth_worker.py')


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
    site-packages where an install keeps it inside the stdlib directory; so is Berth's runtime."""

    def __init__(self):
        import sysconfig
        paths = sysconfig.get_paths()
        self.skip = _dir_prefixes(paths.get('stdlib'), paths.get('platstdlib'))
        self.keep = _dir_prefixes(paths.get('purelib'), paths.get('platlib'))
        self.own = (LAUNCHER, RUNTIME_DIR + os.sep)
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
        if path == self.own[0] or path.startswith(self.own[1]) or \
                (path.startswith(self.skip) and not path.startswith(self.keep)):
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

