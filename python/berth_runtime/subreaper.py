"""The zygote as its workers' subreaper: orphans of the app stay in our subtree; the sweep.

Theory of operation
-------------------
A process the app starts with setsid (or double-forks) leaves the worker's process group,
so the guardian's `kill -KILL 0` (lifeline.py) misses it, and once its parent dies Linux
hands it to init: nothing of Berth's knows it any more.  PR_SET_CHILD_SUBREAPER (Linux
>= 3.4) on the zygote changes where orphans go: to the zygote, the nearest subreaper
above them.  So every process the app starts stays in the zygote's subtree for as long as
the zygote lives, whatever its session or group.  When the master is gone the zygote
sweeps: it SIGKILLs every descendant it finds (/proc/<pid>/task/<tid>/children, or the
ppid fields of /proc/*/stat without CONFIG_PROC_CHILDREN), reaps, and repeats, since a
killed parent's children are handed to it in turn, until it has no child left.  For that
the zygote must outlive the master for a moment: it has no parent-death signal (SIGKILL
would leave no time) and learns of the master's death from EOF on its channel, in its
select loop, which runs no app code.

The zygote also reaps the adopted orphans that exit while it serves (adopted(): its
children that are neither its workers nor the ones the app started while importing).
"""

import os
import signal
import time

PR_SET_CHILD_SUBREAPER = 36
SWEEP_PAUSE_S = 0.005


def become_subreaper():
    """True when orphaned descendants will be reparented to us."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except Exception:
        return False


def children_of(pid):
    """The live children of `pid` (empty when it is gone)."""
    try:
        tasks = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return []
    kids = []
    for tid in tasks:
        try:
            with open('/proc/%d/task/%s/children' % (pid, tid), 'rb') as f:
                kids.extend(int(k) for k in f.read().split())
        except FileNotFoundError:
            return _children_by_scan(pid)  # a kernel without CONFIG_PROC_CHILDREN
        except OSError:
            pass
    return kids


def _children_by_scan(pid):
    kids = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name, 'rb') as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
        if int(stat[stat.rindex(b')') + 2:].split()[1]) == pid:
            kids.append(int(name))
    return kids


def descendants(root):
    found = []
    todo = [root]
    while todo:
        for kid in children_of(todo.pop()):
            found.append(kid)
            todo.append(kid)
    return found


def sweep(budget_s):
    """SIGKILL our whole subtree and reap it; True once no child is left, False when the
    budget ran out first (a child stuck in uninterruptible sleep)."""
    deadline = time.monotonic() + budget_s
    while True:
        for pid in descendants(os.getpid()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(SWEEP_PAUSE_S)


def reap_adopted(known):
    """Reap the exited children that are not in `known` (our workers, the app's own)."""
    for pid in children_of(os.getpid()):
        if pid in known:
            continue
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
