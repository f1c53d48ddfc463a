"""py-autoreload support in the worker runtime (python/berth_runtime): which files a MODULES frame lists,
and when workers and the zygote send one.

Run: python3 -m unittest discover -s test/python -p 'test_modules.py'   (from the repository root)"""

import importlib.util
import json
import os
import shutil
import sys
import sysconfig
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402
from test_zygote import ZygoteHarness  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime import autoreload, wire  # noqa: E402
from berth_runtime.autoreload import ModuleReporter  # noqa: E402

STDLIB = os.path.abspath(sysconfig.get_paths()['stdlib']) + os.sep


class TempDir(object):
    def __init__(self, test):
        self.path = tempfile.mkdtemp(prefix='berth-modules-')
        test.addCleanup(shutil.rmtree, self.path, True)

    def write(self, name, text=''):
        path = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        return path


class SourceOfTest(unittest.TestCase):
    def setUp(self):
        self.reporter = ModuleReporter()
        self.tmp = TempDir(self)

    def test_source_file_as_is(self):
        path = self.tmp.write('app.py')
        self.assertEqual(self.reporter.source_of(path), path)

    def test_cached_pyc_maps_to_its_source(self):
        source = self.tmp.write('app.py')
        pyc = self.tmp.write(os.path.relpath(importlib.util.cache_from_source(source), self.tmp.path))
        self.assertEqual(self.reporter.source_of(pyc), source)

    def test_legacy_pyc_beside_its_source(self):
        source = self.tmp.write('old.py')
        self.assertEqual(self.reporter.source_of(self.tmp.write('old.pyc')), source)

    def test_sourceless_pyc_is_watched_itself(self):
        pyc = self.tmp.write('only.pyc')
        self.assertEqual(self.reporter.source_of(pyc), pyc)

    def test_stdlib_missing_and_own_file_are_left_out(self):
        self.assertIsNone(self.reporter.source_of(json.__file__))
        self.assertIsNone(self.reporter.source_of(os.path.join(self.tmp.path, 'gone.py')))
        self.assertIsNone(self.reporter.source_of(wc.WORKER), 'the launcher')
        self.assertIsNone(self.reporter.source_of(autoreload.__file__), 'a module of the runtime package')
        self.assertIsNone(self.reporter.source_of(wire.__file__), 'a module of the runtime package')

    def test_site_packages_inside_the_stdlib_dir_is_kept(self):
        inside = TempDir(self)
        lib = inside.path + os.sep
        self.reporter.skip, self.reporter.keep = (lib,), (lib + 'site-packages' + os.sep,)
        kept = inside.write('site-packages/django/__init__.py')
        self.assertEqual(self.reporter.source_of(kept), kept)
        self.assertIsNone(self.reporter.source_of(inside.write('json/__init__.py')))

    def test_scan_reports_growth_once(self):
        paths, grew = self.reporter.scan()
        self.assertTrue(grew)
        self.assertIn(os.path.abspath(wc.__file__), paths)
        self.assertEqual(self.reporter.scan(), (paths, False))
        sys.path.insert(0, self.tmp.path)
        self.addCleanup(sys.path.remove, self.tmp.path)
        new = self.tmp.write('berth_scan_probe.py')
        importlib.import_module('berth_scan_probe')
        self.addCleanup(sys.modules.pop, 'berth_scan_probe', None)
        paths, grew = self.reporter.scan()
        self.assertTrue(grew)
        self.assertIn(new, paths)


def modules_frame(client):
    rid, paths = client.expect_json(wc.MODULES)
    assert rid == 0, rid
    return paths


class FramesTest(unittest.TestCase):
    def check_list(self, paths):
        self.assertIn(os.path.join(wc.OPS_APPS, 'ops_app.py'), paths)
        self.assertEqual(paths, sorted(set(paths)))
        for path in paths:
            self.assertTrue(os.path.isabs(path) and os.path.isfile(path), path)
            self.assertFalse(path.endswith('.pyc'), path)
            self.assertFalse(path.startswith(STDLIB) and 'packages' not in path, path)
        self.assertNotIn(wc.WORKER, paths)

    def extra_module(self):
        tmp = TempDir(self)
        name = 'berth_extra_%d' % os.getpid()
        return tmp.path, name, tmp.write(name + '.py', 'VALUE = 1\n')

    def test_worker_lists_its_modules_after_ready_and_again_when_they_grow(self):
        w = wc.ops_worker(self, py_autoreload=0.1)
        self.check_list(modules_frame(w))
        folder, name, path = self.extra_module()
        self.assertEqual(wc.json_body(w, 1, '/import', 'dir=%s&name=%s' % (folder, name)), {'file': path})
        later = modules_frame(w)
        self.check_list(later)
        self.assertIn(path, later)

    def test_threaded_worker_sends_them_too(self):
        w = wc.ops_worker(self, py_autoreload=0.1, threads=2)
        self.check_list(modules_frame(w))
        folder, name, path = self.extra_module()
        wc.json_body(w, 1, '/import', 'dir=%s&name=%s' % (folder, name))
        self.assertIn(path, modules_frame(w))

    def test_off_by_default(self):
        w = wc.ops_worker(self)
        self.assertEqual(wc.json_body(w, 1, '/pid')['pid'], w.proc.pid)  # the next frame is the answer

    def test_zygote_lists_them_and_its_workers_only_report_growth(self):
        h = ZygoteHarness(self, py_autoreload=0.1)
        h.zygote.ready()
        self.check_list(modules_frame(h.zygote))
        worker, pid, _ = h.fork(1)
        worker.ready()
        self.assertEqual(wc.json_body(worker, 1, '/pid')['pid'], pid)  # no MODULES in between
        folder, name, path = self.extra_module()
        wc.json_body(worker, 2, '/import', 'dir=%s&name=%s' % (folder, name))
        later = modules_frame(worker)
        self.assertIn(path, later)
        self.assertIn(os.path.join(wc.OPS_APPS, 'ops_app.py'), later)  # each frame lists the whole set


if __name__ == '__main__':
    unittest.main()
