"""uid / gid / umask in python/berth_worker.py: name resolution, the messages of each
failure, and (as root) a worker and a zygote's workers really running as nobody.

Run: python3 -m unittest discover -s test/python -p 'test_privileges.py'   (from the repository root)"""

import json
import os
import pwd
import grp
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402
from test_zygote import ZygoteHarness  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime.config import BootFailure, read_config  # noqa: E402
from berth_runtime.privileges import privilege_plan  # noqa: E402

# After setuid(nobody) the interpreter must still read its own stdlib: a Python under
# /root (pyenv) cannot, so the drop tests use the system one.
SYSTEM_PYTHON = '/usr/bin/python3'


def nobody():
    try:
        entry = pwd.getpwnam('nobody')
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid, grp.getgrgid(entry.pw_gid).gr_name


def unused_uid():
    uid = 54321
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


def plan(**options):
    cfg = {'uid': None, 'gid': None, 'umask': None}
    cfg.update(options)
    return privilege_plan(cfg)


class ResolutionTest(unittest.TestCase):
    def test_nothing_to_do(self):
        self.assertEqual(plan(), (None, None, None, None))
        self.assertEqual(plan(umask=0o022), (0o022, None, None, None))

    def test_user_by_name_takes_its_primary_group(self):
        entry = pwd.getpwnam('root')
        self.assertEqual(plan(uid='root'), (None, entry.pw_uid, 'root', entry.pw_gid))

    def test_numbers_are_used_as_is(self):
        self.assertEqual(plan(uid='0', gid='0'), (None, 0, 'root', 0))
        self.assertEqual(plan(uid=0, gid=0), (None, 0, 'root', 0))
        uid = unused_uid()
        self.assertEqual(plan(uid=str(uid), gid='4321'), (None, uid, None, 4321))

    def test_group_by_name(self):
        name = grp.getgrgid(0).gr_name
        self.assertEqual(plan(gid=name), (None, None, None, 0))

    def test_nobody(self):
        self.assertIsNotNone(nobody(), 'this test needs the user nobody')
        uid, gid, group = nobody()
        self.assertEqual(plan(uid='nobody', gid=group), (None, uid, 'nobody', gid))

    def test_unknown_user(self):
        with self.assertRaises(BootFailure) as caught:
            plan(uid='no-such-user-berth')
        self.assertEqual(caught.exception.kind, 'privileges')
        self.assertIn("option 'uid': user 'no-such-user-berth' does not exist", caught.exception.message)

    def test_unknown_group(self):
        with self.assertRaises(BootFailure) as caught:
            plan(gid='no-such-group-berth')
        self.assertIn("option 'gid': group 'no-such-group-berth' does not exist", caught.exception.message)

    def test_numeric_uid_without_an_entry_needs_a_gid(self):
        with self.assertRaises(BootFailure) as caught:
            plan(uid=str(unused_uid()))
        self.assertIn("set 'gid' too", caught.exception.message)

    def test_config_validation(self):
        base = wc.worker_config(module='x')
        for key, value in [('uid', ''), ('uid', -1), ('gid', 1.5), ('umask', 0o1000), ('umask', '022'),
                           ('py_autoreload', -1), ('py_autoreload', True), ('own_group', 1), ('mode', 'lazy'),
                           ('token', 5)]:
            cfg = dict(base)
            cfg[key] = value
            with self.assertRaises(BootFailure, msg='%s=%r' % (key, value)) as caught:
                read_config(json.dumps(cfg))
            self.assertIn(key, caught.exception.message)
        self.assertEqual(read_config(json.dumps(dict(base, uid='www-data', gid=33, umask=0o022,
                                                        py_autoreload=0.5)))['gid'], 33)


def run_as_nobody():
    uid, gid, _ = nobody()

    def drop():
        os.setgroups([gid])
        os.setgid(gid)
        os.setuid(uid)
    return drop


class DropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Never skipped: the suite runs as root (scripts/test.sh installs packages with apt).
        if os.geteuid() != 0 or not nobody() or not os.path.exists(SYSTEM_PYTHON):
            raise AssertionError('these tests need root, a user nobody and %s: run the test suite '
                                 'as root (scripts/install-test-deps.sh installs Debian python3)' % SYSTEM_PYTHON)
        # The dropped worker must read the runtime and the app as nobody, but a clone of the
        # repository may sit in a directory only root can enter (mktemp -d is 0700). Run these
        # tests from a copy nobody can read.
        cls.readable = tempfile.mkdtemp(prefix='berth-drop-')
        os.chmod(cls.readable, 0o755)
        shutil.copytree(os.path.join(wc.ROOT, 'python'), os.path.join(cls.readable, 'python'),
                        ignore=shutil.ignore_patterns('__pycache__'))
        shutil.copytree(wc.OPS_APPS, os.path.join(cls.readable, 'ops_apps'),
                        ignore=shutil.ignore_patterns('__pycache__'))
        cls.saved = (wc.WORKER, wc.OPS_APPS)
        wc.WORKER = os.path.join(cls.readable, 'python', 'berth_worker.py')
        wc.OPS_APPS = os.path.join(cls.readable, 'ops_apps')

    @classmethod
    def tearDownClass(cls):
        wc.WORKER, wc.OPS_APPS = cls.saved
        shutil.rmtree(cls.readable, ignore_errors=True)

    def start(self, popen=None, **config):
        worker = wc.Worker(python=SYSTEM_PYTHON, popen=popen, module='ops_app', chdir=wc.OPS_APPS, **config)
        self.addCleanup(worker.close)
        return worker

    def test_worker_runs_as_nobody_with_the_umask(self):
        uid, gid, group = nobody()
        w = self.start(uid='nobody', gid=group, umask=0o027)
        w.ready()
        self.assertEqual(wc.json_body(w, 1, '/whoami'), {'uid': uid, 'gid': gid, 'groups': [gid], 'umask': 0o027})

    def test_uid_alone_takes_the_users_group_and_drops_roots_groups(self):
        uid, gid, _ = nobody()
        w = self.start(uid=str(uid))
        w.ready()
        umask = os.umask(0)
        os.umask(umask)
        self.assertEqual(wc.json_body(w, 1, '/whoami'),
                         {'uid': uid, 'gid': gid, 'groups': sorted(set(os.getgrouplist('nobody', gid))),
                          'umask': umask})

    def test_pdeathsig_is_armed_again_after_the_drop(self):
        # setuid() clears PR_SET_PDEATHSIG.  An intermediate process plays the master and is
        # SIGKILLed while this test keeps the channel open: only the signal can end the worker.
        import socket
        master_end, worker_end = socket.socketpair()
        self.addCleanup(master_end.close)
        uid, gid, group = nobody()
        r, w = os.pipe()
        env = dict(os.environ, BERTH_CHANNEL_FD='3', BERTH_WORKER_CONFIG=json.dumps(wc.worker_config(
            module='ops_app', chdir=wc.OPS_APPS, uid='nobody', gid=group)))
        middle = subprocess.Popen([sys.executable, '-c', '''if True:
            import os, subprocess, sys, time
            os.dup2(%d, 3)
            p = subprocess.Popen([%r, %r], pass_fds=[3])
            os.write(%d, b"%%d\\n" %% p.pid)
            time.sleep(60)
        ''' % (worker_end.fileno(), SYSTEM_PYTHON, wc.WORKER, w)], pass_fds=[worker_end.fileno(), w], env=env)
        worker_end.close()
        os.close(w)
        try:
            pid = int(os.read(r, 100))
        finally:
            os.close(r)
        self.addCleanup(lambda: wc.alive(pid) and os.kill(pid, signal.SIGKILL))
        client = wc.Worker.on(master_end)
        client.ready()
        self.assertEqual(wc.json_body(client, 1, '/whoami')['uid'], uid)
        middle.kill()
        middle.wait()
        self.assertTrue(wc.wait_dead(pid), 'the worker outlived its master after dropping privileges')

    def test_setuid_failure_names_the_option_and_the_fix(self):
        uid, gid, _ = nobody()
        w = self.start(popen={'preexec_fn': run_as_nobody()}, uid='0', gid=str(gid))
        rid, info = w.expect_json(wc.BOOT_FAIL)
        self.assertEqual(info['kind'], 'privileges')
        self.assertIn("option 'uid': user 0 — setuid(0) failed: Operation not permitted; start Berth as root, "
                      "or remove 'uid'", info['message'])
        self.assertEqual(w.proc.wait(10), 3)

    def test_setgid_failure_names_the_option(self):
        w = self.start(popen={'preexec_fn': run_as_nobody()}, gid='0')
        rid, info = w.expect_json(wc.BOOT_FAIL)
        self.assertIn("option 'gid': group 0 — setgid(0) failed", info['message'])
        self.assertEqual(w.proc.wait(10), 3)

    def test_unknown_user_is_exit_3(self):
        w = self.start(uid='no-such-user-berth')
        rid, info = w.expect_json(wc.BOOT_FAIL)
        self.assertEqual(info['kind'], 'privileges')
        self.assertEqual(w.proc.wait(10), 3)

    def test_zygote_drops_once_and_its_workers_reach_the_socket(self):
        uid, gid, group = nobody()
        # The master must make its worker socket reachable by the 'uid' user.
        h = ZygoteHarness(self, python=SYSTEM_PYTHON, listener_mode=0o777, uid='nobody', gid=group)
        worker, pid = h.serving()
        self.assertEqual(wc.json_body(worker, 1, '/whoami')['uid'], uid)
        h.zygote.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(h.zygote.expect_json(wc.EXITED)[1]['code'], 0)
        self.assertEqual(h.zygote.proc.wait(10), 0)

    def test_zygote_worker_without_access_to_the_socket_says_why(self):
        _, _, group = nobody()
        h = ZygoteHarness(self, python=SYSTEM_PYTHON, listener_mode=0o700, uid='nobody', gid=group)
        h.zygote.ready()
        h.zygote.send(wc.frame(1, wc.FORK, b'{"slot": 1}'))
        h.pids.append(h.zygote.expect_json(wc.FORKED)[1]['pid'])
        self.assertEqual(h.zygote.expect_json(wc.EXITED)[1]['code'], 3)
        h.zygote.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(h.zygote.proc.wait(10), 0)
        self.assertIn('must be writable and its directories searchable by uid', h.zygote.stderr_text())


if __name__ == '__main__':
    unittest.main()
