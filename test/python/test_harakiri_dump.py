"""SIGUSR2 in python/berth_worker.py: the stack of every running request goes to stderr
(the master's harakiri sends it just before SIGKILL).

Run: python3 -m unittest discover -s test/python -p 'test_harakiri_dump.py'   (from the repository root)"""

import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402
from test_zygote import ZygoteHarness  # noqa: E402

HEADER = re.compile(r'berth worker (\d+): harakiri: stack of thread (\S+) \((\d+)\) running (\S+) (\S+)\n')


class DumpTest(unittest.TestCase):
    def dump(self, worker, blocked):
        """Wait until `blocked` requests sleep in the app, SIGUSR2, end the worker: its stderr."""
        wc.wait_output(worker.proc.stdout, b'blocking', blocked)
        wc.wait_sleeping(worker.proc.pid, blocked)
        worker.proc.send_signal(signal.SIGUSR2)
        text = wc.wait_output(worker.proc.stderr, b'harakiri_victim', blocked)  # the dump is out
        worker.sock.close()
        self.assertEqual(worker.proc.wait(10), 5)
        return (text + worker.proc.stderr.read()).decode('utf-8', 'replace')

    def test_inline_worker_shows_the_apps_stack_not_the_handler(self):
        w = wc.ops_worker(self)
        w.send(wc.request_frame(1, '/block', query='s=30'))
        text = self.dump(w, 1)
        headers = HEADER.findall(text)
        self.assertEqual(len(headers), 1, text)
        pid, name, _, method, uri = headers[0]
        self.assertEqual((int(pid), name, method, uri), (w.proc.pid, 'MainThread', 'GET', '/block?s=30'))
        self.assertIn('in harakiri_victim', text)
        self.assertIn('in application', text)
        self.assertNotIn('dump_stacks', text)

    def test_threaded_worker_shows_every_running_request(self):
        w = wc.ops_worker(self, threads=3)
        w.send(wc.request_frame(1, '/block', query='s=30') + wc.request_frame(2, '/block', query='s=31'))
        text = self.dump(w, 2)
        headers = HEADER.findall(text)
        self.assertEqual(sorted(h[4] for h in headers), ['/block?s=30', '/block?s=31'], text)
        self.assertEqual(len(set(h[2] for h in headers)), 2)  # two different threads
        self.assertTrue(all(h[1].startswith('berth-thread-') for h in headers), headers)
        self.assertEqual(text.count('in harakiri_victim'), 2)

    def test_idle_worker_says_so_and_keeps_serving(self):
        w = wc.ops_worker(self)
        w.proc.send_signal(signal.SIGUSR2)
        wc.wait_output(w.proc.stderr, b'harakiri: no request is running')
        self.assertEqual(wc.json_body(w, 1, '/pid')['pid'], w.proc.pid)

    def test_only_the_main_thread_takes_signals(self):
        # Python runs handlers in the main thread only; a SIGUSR2 the kernel handed to a helper
        # thread would wait until the app's sleep ended.  Every helper blocks the handled ones.
        w = wc.ops_worker(self, threads=3)
        w.send(wc.request_frame(1, '/block', query='s=30'))
        wc.wait_output(w.proc.stdout, b'blocking', 1)
        wc.wait_sleeping(w.proc.pid, 1)
        handled = (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGUSR2 - 1)) | (1 << (signal.SIGCHLD - 1))
        tasks = '/proc/%d/task' % w.proc.pid

        def masks():
            out = {}
            for tid in os.listdir(tasks):
                with open('%s/%s/status' % (tasks, tid)) as f:
                    blocked = re.search(r'^SigBlk:\s*([0-9a-f]+)$', f.read(), re.M).group(1)
                out[int(tid)] = int(blocked, 16) & handled
            return out
        # The main thread blocks them for an instant while it starts each helper (so the helper
        # inherits the mask); the request may already run then.
        deadline = time.monotonic() + 5
        while masks()[w.proc.pid] != 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        masks = masks()
        self.assertEqual(masks.pop(w.proc.pid), 0, 'the main thread takes them')
        self.assertGreaterEqual(len(masks), 4, 'a reader, three request threads, the EOF watchdog')
        self.assertEqual(set(masks.values()), {handled}, masks)
        w.proc.send_signal(signal.SIGUSR2)  # the request thread's stack, at once
        wc.wait_output(w.proc.stderr, b'in harakiri_victim', 1)

    def test_forked_worker_dumps_and_zygote_ignores_the_signal(self):
        h = ZygoteHarness(self)
        worker, pid = h.serving()
        h.zygote.proc.send_signal(signal.SIGUSR2)  # a stray signal must not kill the zygote
        worker.send(wc.request_frame(1, '/block', query='s=30'))
        wc.wait_output(h.zygote.proc.stdout, b'blocking %d' % pid)
        wc.wait_sleeping(pid)
        os.kill(pid, signal.SIGUSR2)
        wc.wait_output(h.zygote.proc.stderr, b'in harakiri_victim')
        os.kill(pid, signal.SIGKILL)
        self.assertEqual(h.zygote.expect_json(wc.EXITED)[1]['signal'], 'SIGKILL')
        h.zygote.send(wc.frame(0, wc.SHUTDOWN))
        self.assertEqual(h.zygote.proc.wait(10), 0)


if __name__ == '__main__':
    unittest.main()
