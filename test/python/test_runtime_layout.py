"""The shape of the Python runtime (python/berth_runtime): small modules that each open with
a line saying what they are for, standard library only, no import cycles, and optional parts
imported only when the config asks for them (checked in a real worker's sys.modules).

Run: python3 -m unittest discover -s test/python -p 'test_runtime_layout.py'   (from the repository root)"""

import ast
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402

RUNTIME = os.path.join(wc.ROOT, 'python', 'berth_runtime')
MAX_LINES = 400
# What a plain lazy-apps worker (threads = 1, no direct sockets, no autoreload, no
# privileges, no static-from-django) must not load.
OPTIONAL = {'berth_runtime.' + m for m in (
    'direct_server', 'direct_accept', 'direct_io', 'direct_report', 'direct_request', 'http_head', 'uwsgi_vars',
    'relay', 'zygote', 'autoreload', 'privileges', 'django_static')}


def modules():
    return sorted(f[:-3] for f in os.listdir(RUNTIME) if f.endswith('.py'))


def source(name):
    with open(os.path.join(RUNTIME, name + '.py')) as f:
        return f.read()


def imports(tree, top_level_only):
    """(relative module names, absolute top-level package names) imported by a module."""
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    relative, absolute = set(), set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.module:
                relative.add(node.module.split('.')[0])
            else:
                relative.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            absolute.add(node.module.split('.')[0])
        elif isinstance(node, ast.Import):
            absolute.update(a.name.split('.')[0] for a in node.names)
    return relative, absolute


class LayoutTest(unittest.TestCase):
    def test_modules_are_small_and_say_what_they_are_for(self):
        for name in modules():
            text = source(name)
            self.assertLessEqual(text.count('\n'), MAX_LINES, name)
            first = text.split('\n', 1)[0]
            self.assertTrue(first.startswith('"""') and len(first) > 10, '%s opens with %r' % (name, first))

    def test_standard_library_only(self):
        for name in modules():
            relative, absolute = imports(ast.parse(source(name)), False)
            # django_static and django_check use the Django the app itself already loaded.
            app_owned = {'django'} if name in ('django_static', 'django_check') else set()
            self.assertEqual(sorted(m for m in absolute if m not in sys.stdlib_module_names and m not in app_owned),
                             [], name)
            self.assertEqual(sorted(relative - set(modules())), [], name)

    def test_no_import_cycles(self):
        graph = dict((name, imports(ast.parse(source(name)), False)[0]) for name in modules())
        done, path = set(), []

        def visit(name):
            if name in path:
                self.fail('import cycle: %s' % ' -> '.join(path[path.index(name):] + [name]))
            if name in done:
                return
            path.append(name)
            for dep in sorted(graph[name]):
                visit(dep)
            path.pop()
            done.add(name)
        for name in modules():
            visit(name)

    def test_main_imports_optional_parts_lazily(self):
        graph = dict((name, imports(ast.parse(source(name)), True)[0]) for name in modules())
        seen, todo = set(), ['main']
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
        self.assertEqual(sorted({'berth_runtime.' + m for m in seen} & OPTIONAL), [])


class LazyImportTest(unittest.TestCase):
    def loaded(self, **config):
        worker = wc.Worker(module='ops_app', chdir=wc.OPS_APPS, **config)
        self.addCleanup(worker.close)
        worker.ready()
        if config.get('py_autoreload'):
            worker.expect(wc.MODULES)
        worker.send(wc.request_frame(1, '/modules'))
        response = worker.response(1)
        self.assertEqual(response['status'], '200 OK', response)
        return set(json.loads(response['body']))

    def test_a_plain_worker_loads_no_optional_module(self):
        loaded = self.loaded(threads=1)
        self.assertEqual(sorted(loaded & OPTIONAL), [])
        self.assertEqual(sorted(m for m in loaded if m.startswith('django')), [])
        self.assertIn('berth_runtime.wsgi_core', loaded)
        self.assertIn('berth_runtime.framed_inline', loaded)
        self.assertNotIn('berth_runtime.framed_threaded', loaded)

    def test_a_threaded_worker_loads_the_threaded_server_only(self):
        loaded = self.loaded(threads=2)
        self.assertEqual(sorted(loaded & OPTIONAL), [])
        self.assertIn('berth_runtime.framed_threaded', loaded)
        self.assertNotIn('berth_runtime.framed_inline', loaded)

    def test_py_autoreload_loads_its_module(self):
        loaded = self.loaded(threads=1, py_autoreload=60)
        self.assertIn('berth_runtime.autoreload', loaded)
        self.assertEqual(sorted(loaded & (OPTIONAL - {'berth_runtime.autoreload'})), [])


if __name__ == '__main__':
    unittest.main()
