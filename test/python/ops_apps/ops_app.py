"""WSGI app for the operations tests of python/berth_worker.py (zygote, privileges,
harakiri dump, py-autoreload, process groups, lazy imports).

  /pid            JSON {pid, ppid, pgrp, imported_by}  (imported_by: the pid that imported us)
  /random         JSON {random}
  /whoami         JSON {uid, gid, groups, umask}
  /block?s=       prints "blocking <pid>" on stdout, then sleeps in harakiri_victim()
  /spawn          starts `sleep 300` (an app subprocess); JSON {pid}
  /import?dir=&name=  imports module `name` from directory `dir`; JSON {file}
  /modules        JSON [name, ...]: the loaded modules of Berth's runtime and of Django
"""

import importlib
import json
import os
import random
import subprocess
import sys
import time
from urllib.parse import parse_qs

IMPORTED_BY = os.getpid()


def _q(environ, name, default=None):
    values = parse_qs(environ.get('QUERY_STRING', '')).get(name)
    return values[0] if values else default


def harakiri_victim(seconds):
    sys.stdout.write('blocking %d\n' % os.getpid())  # here, so a SIGUSR2 sent on it finds us in this function
    sys.stdout.flush()
    time.sleep(seconds)


def _umask():
    value = os.umask(0)
    os.umask(value)
    return value


def application(environ, start_response):
    path = environ['PATH_INFO']
    if path == '/pid':
        value = {'pid': os.getpid(), 'ppid': os.getppid(), 'pgrp': os.getpgrp(), 'imported_by': IMPORTED_BY}
    elif path == '/random':
        value = {'random': random.random()}
    elif path == '/whoami':
        value = {'uid': os.getuid(), 'gid': os.getgid(), 'groups': sorted(os.getgroups()), 'umask': _umask()}
    elif path == '/block':
        harakiri_victim(float(_q(environ, 's', '30')))
        value = {'slept': True}
    elif path == '/spawn':
        value = {'pid': subprocess.Popen(['sleep', '300']).pid}
    elif path == '/import':
        sys.path.insert(0, _q(environ, 'dir'))
        value = {'file': importlib.import_module(_q(environ, 'name')).__file__}
    elif path == '/modules':
        value = sorted(m for m in sys.modules if m.split('.')[0] in ('berth_runtime', 'django'))
    else:
        start_response('404 Not Found', [('Content-Type', 'text/plain')])
        return [b'not found']
    body = json.dumps(value).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
    return [body]
