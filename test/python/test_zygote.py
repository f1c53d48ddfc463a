"""Preload mode of python/berth_worker.py (mode "zygote"), driven the way the master
drives it: fd 3 is the zygote's control channel, forked workers connect to a listening
unix socket (channel_path) and introduce themselves with HELLO.

Run: python3 -m unittest discover -s test/python -p 'test_zygote.py'   (from the repository root)"""

import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402

TOKEN = 's3cret-token'


class ZygoteHarness(object):
    """A zygote subprocess, the listening socket its workers connect to, and cleanup of
    every process either may leave behind."""

    def __init__(self, test, popen=None, listener_mode=None, python=None, **config):
        self.test = test
        self.dir = tempfile.mkdtemp(prefix='berth-zygote-')
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, 'workers.sock')
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        test.addCleanup(self.listener.close)
        if listener_mode is not None:  # a worker without root must be able to connect
            os.chmod(self.dir, 0o755)
            os.chmod(self.path, listener_mode)
        cfg = {'module': 'ops_app', 'chdir': wc.OPS_APPS, 'mode': 'zygote', 'channel_path': self.path,
               'token': TOKEN}
        cfg.update(config)
        self.pids = []
        test.addCleanup(self.kill_workers)
        self.zygote = wc.Worker(python=python, popen=popen, **cfg)
        test.addCleanup(self.zygote.close)

    def kill_workers(self):
        for pid in self.pids:
            if wc.alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def fork(self, slot):
        """FORK -> FORKED, accept the worker's connection, HELLO; (client, pid, hello)."""
        self.zygote.send(wc.frame(slot, wc.FORK, json.dumps({'slot': slot}).encode('utf-8')))
        rid, forked = self.zygote.expect_json(wc.FORKED)
        self.test.assertEqual(rid, slot)
        self.pids.append(forked['pid'])
        self.listener.settimeout(10)
        conn, _ = self.listener.accept()
        worker = wc.Worker.on(conn)
        self.test.addCleanup(worker.close)
        rid, hello = worker.expect_json(wc.HELLO)
        self.test.assertEqual(rid, slot)
        return worker, forked['pid'], hello

    def serving(self, slot=1):
        """READY from the zygote, then one forked worker, READY too: (client, pid)."""
        self.zygote.ready()
        worker, pid, _ = self.fork(slot)
        worker.ready()
        return worker, pid


class ZygoteTest(unittest.TestCase):
    def test_fork_serve_kill_and_shutdown(self):
        h = ZygoteHarness(self)
        ready = h.zygote.ready()
        self.assertIs(ready['zygote'], True)
        self.assertEqual(ready['pid'], h.zygote.proc.pid)
        self.assertEqual(ready['sys_path'][0], wc.OPS_APPS)

        worker, pid, hello = h.fork(3)
        self.assertEqual(hello, {'pid': pid, 'token': TOKEN})
        info = worker.ready()
        self.assertEqual(info['pid'], pid)
        self.assertNotIn('zygote', info)
        seen = wc.json_body(worker, 1, '/pid')
        # The worker serves the app object the zygote imported: it was never imported again.
        self.assertEqual(seen, {'pid': pid, 'ppid': h.zygote.proc.pid, 'pgrp': os.getpgrp(),
                                'imported_by': h.zygote.proc.pid})

        os.kill(pid, signal.SIGKILL)
        self.assertEqual(h.zygote.expect_json(wc.EXITED), (3, {'pid': pid, 'code': None, 'signal': 'SIGKILL'}))
        h.zygote.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(h.zygote.proc.wait(10), 0)

    def test_workers_get_their_own_random_seed_and_shutdown_reaps_them(self):
        h = ZygoteHarness(self)
        h.zygote.ready()
        first, pid1, _ = h.fork(1)
        second, pid2, _ = h.fork(2)
        first.ready()
        second.ready()
        self.assertNotEqual(wc.json_body(first, 1, '/random'), wc.json_body(second, 1, '/random'))
        h.zygote.send(wc.frame(0, wc.SHUTDOWN))  # both still alive: the zygote SIGTERMs them
        exited = sorted([h.zygote.expect_json(wc.EXITED), h.zygote.expect_json(wc.EXITED)])
        self.assertEqual(exited, [(1, {'pid': pid1, 'code': 0, 'signal': None}),
                                  (2, {'pid': pid2, 'code': 0, 'signal': None})])
        self.assertEqual(h.zygote.proc.wait(10), 0)

    def test_worker_exit_code_is_reported(self):
        h = ZygoteHarness(self)
        worker, pid = h.serving(7)
        worker.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(h.zygote.expect_json(wc.EXITED), (7, {'pid': pid, 'code': 0, 'signal': None}))
        worker, pid, _ = h.fork(7)  # the slot is forked again, from the same zygote
        worker.ready()
        worker.sock.close()  # the master dropped this worker's channel: exit 5
        self.assertEqual(h.zygote.expect_json(wc.EXITED), (7, {'pid': pid, 'code': 5, 'signal': None}))

    def test_sigterm_from_a_living_master_is_a_shutdown(self):
        h = ZygoteHarness(self)
        worker, pid = h.serving()
        h.zygote.proc.terminate()
        self.assertEqual(h.zygote.expect_json(wc.EXITED), (1, {'pid': pid, 'code': 0, 'signal': None}))
        self.assertEqual(h.zygote.proc.wait(10), 0)

    def test_eof_on_the_control_channel_kills_the_workers_and_exits_5(self):
        h = ZygoteHarness(self)
        worker, pid = h.serving()
        h.zygote.sock.close()
        self.assertEqual(h.zygote.proc.wait(10), 5)
        self.assertTrue(wc.wait_dead(pid), 'the forked worker outlived its zygote')

    def test_zygote_death_kills_its_workers_by_pdeathsig(self):
        # The test keeps the worker's channel open: only PR_SET_PDEATHSIG, re-armed after
        # fork(), can kill the worker when its zygote dies.
        h = ZygoteHarness(self)
        worker, pid = h.serving()
        h.zygote.proc.kill()
        self.assertTrue(wc.wait_dead(pid), 'the forked worker outlived its zygote')

    def test_unreachable_channel_path_is_exit_3_with_the_path(self):
        h = ZygoteHarness(self)
        h.zygote.ready()
        os.unlink(h.path)
        h.zygote.send(wc.frame(4, wc.FORK, b'{"slot": 4}'))
        rid, forked = h.zygote.expect_json(wc.FORKED)
        h.pids.append(forked['pid'])
        self.assertEqual(h.zygote.expect_json(wc.EXITED), (4, {'pid': forked['pid'], 'code': 3, 'signal': None}))
        h.zygote.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(h.zygote.proc.wait(10), 0)
        self.assertIn("worker slot 4 cannot connect to the master's socket %s" % h.path, h.zygote.stderr_text())

    def test_threads_started_by_the_import_are_warned_about(self):
        h = ZygoteHarness(self, module='threads_app')
        h.zygote.ready()
        h.zygote.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(h.zygote.proc.wait(10), 0)
        stderr = h.zygote.stderr_text()
        self.assertIn('importing the app started 1 thread(s) (app-import-thread)', stderr)
        self.assertIn('lazy-apps', stderr)

    def test_plain_app_gets_no_thread_warning(self):
        h = ZygoteHarness(self)
        h.zygote.ready()
        h.zygote.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(h.zygote.proc.wait(10), 0)
        self.assertNotIn('warning', h.zygote.stderr_text())

    def test_the_zygote_serves_no_requests(self):
        h = ZygoteHarness(self)
        h.zygote.ready()
        h.zygote.send(wc.request_frame(1, '/pid'))
        self.assertEqual(h.zygote.proc.wait(10), 2)
        self.assertIn('only takes FORK and SHUTDOWN', h.zygote.stderr_text())

    def test_import_failure_is_boot_fail_exit_4(self):
        h = ZygoteHarness(self, module='import_error', chdir=wc.APPS)
        rid, info = h.zygote.expect_json(wc.BOOT_FAIL)
        self.assertEqual(info['kind'], 'import')
        self.assertEqual(h.zygote.proc.wait(10), 4)

    def test_zygote_mode_needs_a_channel_path(self):
        h = ZygoteHarness(self, channel_path=None)
        rid, info = h.zygote.expect_json(wc.BOOT_FAIL)
        self.assertIn('channel_path', info['message'])
        self.assertEqual(h.zygote.proc.wait(10), 3)

    def test_threaded_workers(self):
        h = ZygoteHarness(self, threads=3)
        h.zygote.ready()
        worker, pid, _ = h.fork(1)
        self.assertEqual(worker.ready()['threads'], 3)
        self.assertEqual(wc.json_body(worker, 9, '/pid')['pid'], pid)


if __name__ == '__main__':
    unittest.main()
