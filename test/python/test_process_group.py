"""No orphans: with own_group, the app's subprocesses die with a worker (or zygote) whose
master went away, however it went away; a normal exit leaves them alone.

Run: python3 -m unittest discover -s test/python -p 'test_process_group.py'   (from the repository root)"""

import json
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402
from test_zygote import ZygoteHarness  # noqa: E402

NEW_GROUP = {'start_new_session': True}  # what the master does for own_group


def children_of(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return ''


class GroupTest(unittest.TestCase):
    def spawn(self, client):
        """An app subprocess (`sleep 300`), killed at cleanup if it is still there."""
        pid = wc.json_body(client, 99, '/spawn')['pid']
        self.addCleanup(lambda: wc.alive(pid) and os.kill(pid, signal.SIGKILL))
        return pid

    def test_channel_eof_kills_the_group(self):
        w = wc.ops_worker(self, own_group=True, popen=NEW_GROUP)
        grandchild = self.spawn(w)
        w.sock.close()
        w.proc.wait(10)
        self.assertTrue(wc.wait_dead(grandchild), 'the app subprocess outlived its worker')

    def test_sigkilled_master_leaves_no_orphans(self):
        # An intermediate process plays the master and is SIGKILLed: the worker dies of
        # PDEATHSIG before its own code can run, so the guardian must kill the group.
        r, w = os.pipe()
        master = subprocess.Popen([sys.executable, '-c', '''if True:
            import json, os, sys, time
            sys.path.insert(0, %r)
            import worker_client as wc
            w = wc.Worker(popen={"start_new_session": True}, module="ops_app", chdir=wc.OPS_APPS,
                          own_group=True)
            w.ready()
            info = {"worker": w.proc.pid, "grandchild": wc.json_body(w, 1, "/spawn")["pid"]}
            os.write(%d, (json.dumps(info) + "\\n").encode())
            time.sleep(60)
        ''' % (os.path.dirname(os.path.abspath(__file__)), w)], pass_fds=[w])
        os.close(w)
        try:
            info = json.loads(os.read(r, 1000))
        finally:
            os.close(r)
            master.kill()
            master.wait()
        self.addCleanup(lambda: [wc.alive(p) and os.kill(p, signal.SIGKILL) for p in info.values()])
        self.assertTrue(wc.wait_dead(info['worker']), 'the worker outlived its master')
        self.assertTrue(wc.wait_dead(info['grandchild']), 'the app subprocess outlived the master')

    def test_normal_exit_leaves_the_subprocess_and_stops_the_guardian(self):
        w = wc.ops_worker(self, own_group=True, popen=NEW_GROUP)
        grandchild = self.spawn(w)
        guardians = [p for p in children_of(w.proc.pid) if 'kill -KILL 0' in cmdline(p)]
        self.assertEqual(len(guardians), 1, children_of(w.proc.pid))
        w.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(w.proc.wait(10), 0)
        self.assertTrue(wc.wait_dead(guardians[0]), 'the guardian outlived a normal exit')
        self.assertTrue(wc.alive(grandchild), 'a normal exit killed the app subprocess')

    def test_without_own_group_the_subprocess_survives(self):
        w = wc.ops_worker(self, popen=NEW_GROUP)
        grandchild = self.spawn(w)
        self.assertEqual([p for p in children_of(w.proc.pid) if p != grandchild], [])  # no guardian
        w.sock.close()
        self.assertEqual(w.proc.wait(10), 5)
        self.assertTrue(wc.alive(grandchild))

    def test_own_group_without_leading_a_group_kills_nothing(self):
        # The flag is wrong (same group as this test process): killpg would kill us.
        w = wc.ops_worker(self, own_group=True)
        grandchild = self.spawn(w)
        w.sock.close()
        self.assertEqual(w.proc.wait(10), 5)
        self.assertTrue(wc.alive(grandchild))
        # (read, not read to EOF: the surviving subprocess holds the pipe open)
        wc.wait_output(w.proc.stderr, b'own_group is set but this process does not lead its process group')

    def test_zygote_group_dies_with_its_master(self):
        h = ZygoteHarness(self, own_group=True, popen=NEW_GROUP)
        worker, pid = h.serving()
        grandchild = self.spawn(worker)
        h.zygote.sock.close()
        h.zygote.proc.wait(10)
        self.assertTrue(wc.wait_dead(pid), 'the forked worker outlived the zygote')
        self.assertTrue(wc.wait_dead(grandchild), 'the app subprocess outlived the zygote')

    def test_sigkilled_zygote_takes_the_group_with_it(self):
        h = ZygoteHarness(self, own_group=True, popen=NEW_GROUP)
        worker, pid = h.serving()
        grandchild = self.spawn(worker)
        h.zygote.proc.kill()
        self.assertTrue(wc.wait_dead(pid), 'the forked worker outlived the zygote')
        self.assertTrue(wc.wait_dead(grandchild), 'the app subprocess outlived the zygote')


if __name__ == '__main__':
    unittest.main()
