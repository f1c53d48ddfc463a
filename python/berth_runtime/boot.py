"""Boot: chdir, privileges, sys.path, the app imported; boot failures reported.

Chdir, privileges, sys.path as uWSGI builds it, the app imported and its callable
found; and a boot failure reported (BOOT_FAIL, stderr, the exit code naming the cause)."""

import importlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import sys
import traceback

from .config import BootFailure
from .exits import EXIT_BOOT_FAILURE, EXIT_FOR_KIND
from .wire import BOOT_FAIL, json_frame

# The launcher's directory (python/): taken off sys.path so the app cannot import our
# modules by accident; the package's own later imports go through berth_runtime.__path__.
LAUNCHER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def prepare_sys_path(cfg):
    """Like uWSGI: pythonpath entries first, then the wsgi-file's directory and the
    working directory; the launcher's own directory is removed."""
    rest = list(sys.path)
    if rest and os.path.abspath(rest[0] or '.') == LAUNCHER_DIR:
        rest.pop(0)
    front = [os.path.abspath(p) for p in cfg['pythonpath']]
    if cfg['wsgi_file']:
        front.append(os.path.dirname(os.path.abspath(cfg['wsgi_file'])))
    front.append(os.getcwd())
    seen = set()
    new = []
    for p in front + rest:
        if p not in seen:
            seen.add(p)
            new.append(p)
    sys.path[:] = new


def module_name_for_file(path):
    stem = os.path.basename(path).split('.')[0] or 'wsgi'
    name = ''.join(c if c.isalnum() or c == '_' else '_' for c in stem)
    return name if not name[0].isdigit() else '_' + name


def import_app_module(cfg):
    """Import the module or exec the wsgi-file; returns (module, callable name, label)."""
    if cfg['module']:
        modname, _, attr = cfg['module'].partition(':')
        label = 'module %r' % modname
        try:
            module = importlib.import_module(modname)
        except BaseException as e:
            raise BootFailure('import', 'importing %s failed: %s: %s' % (label, type(e).__name__, e),
                              traceback.format_exc())
        return module, attr or cfg['callable'], label
    path = os.path.abspath(cfg['wsgi_file'])
    label = 'wsgi-file %s' % path
    if not os.path.isfile(path):
        raise BootFailure('import', '%s does not exist (working directory %s)' % (label, os.getcwd()))
    name = module_name_for_file(path)
    try:
        loader = importlib.machinery.SourceFileLoader(name, path)
        spec = importlib.util.spec_from_loader(name, loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
    except BaseException as e:
        sys.modules.pop(name, None)
        raise BootFailure('import', 'loading %s failed: %s: %s' % (label, type(e).__name__, e),
                          traceback.format_exc())
    return module, cfg['callable'], label


def load_app(cfg):
    module, name, label = import_app_module(cfg)
    app = getattr(module, name, None)
    if app is None:
        found = sorted(n for n, v in vars(module).items()
                       if not n.startswith('_') and callable(v) and not isinstance(v, type(sys)))
        raise BootFailure('callable', '%s has no callable %r; its callables: %s'
                          % (label, name, ', '.join(found[:20]) or '(none)'))
    if not callable(app):
        raise BootFailure('callable', '%s: %r is a %s, not callable' % (label, name, type(app).__name__))
    return app


def boot(cfg, lifeline):
    if cfg['chdir']:
        try:
            os.chdir(cfg['chdir'])
        except OSError as e:
            raise BootFailure('chdir', 'cannot chdir to %r: %s' % (cfg['chdir'], e.strerror or e))
    if cfg['uid'] is not None or cfg['gid'] is not None or cfg['umask'] is not None:
        from .privileges import drop_privileges
        if drop_privileges(cfg):
            lifeline.rearm()  # the kernel cleared PR_SET_PDEATHSIG when the credentials changed
    prepare_sys_path(cfg)
    app = load_app(cfg)
    if cfg['django_check']:
        from .django_check import run_django_check
        run_django_check()
    return app


def report_boot_failure(sock, failure):
    info = {'kind': failure.kind, 'message': failure.message, 'traceback': failure.traceback,
            'executable': sys.executable, 'sys_path': list(sys.path)}
    if sock is not None:
        try:
            sock.sendall(json_frame(0, BOOT_FAIL, info))
        except OSError:
            pass
    text = ['berth worker %d: cannot start the app (%s): %s' % (os.getpid(), failure.kind, failure.message)]
    if failure.traceback:
        text.append(failure.traceback.rstrip('\n'))
    text.append('python: %s (%s)' % (sys.executable, platform.python_version()))
    text.append('sys.path: %s' % json.dumps(list(sys.path)))
    sys.stderr.write('\n'.join(text) + '\n')
    sys.stderr.flush()
    return EXIT_FOR_KIND.get(failure.kind, EXIT_BOOT_FAILURE)

