"""What the worker does when the master is gone (exit 5, its process group killed).

PR_SET_PDEATHSIG, the Lifeline (exit 5, killing our
process group first when we lead it) and the guardian that kills the group if we die."""

import os
import signal
import sys

from .exits import EXIT_MASTER_GONE
from .stderr_log import write_stderr


def arm_parent_death_signal(signum=signal.SIGKILL):
    """Linux: the kernel SIGKILLs us when our parent dies, even if the app is stuck
    (signum 0: no signal; the zygote, which must sweep its subtree first, subreaper.py)."""
    if not sys.platform.startswith('linux'):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signum), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except Exception:
        pass


# The guardian: SIGKILL our process group (kill 0) unless the leader says "q" first.
GUARDIAN_SCRIPT = 'read -r line; [ "$line" = q ] || kill -KILL 0'


class Lifeline(object):
    """What this process does once its parent (the master, or a forked worker's zygote)
    is gone: exit 5, first SIGKILLing its whole process group when Berth made it the
    group's leader, so the app's own subprocesses do not outlive Berth."""

    def __init__(self, parent, group_leader):
        self.parent = parent
        self.group_leader = group_leader
        self.guardian = None  # write end of the guardian's pipe

    def start_guardian(self):
        """A `sh` in our group, reading a pipe whose write end only we hold: when we die
        without a normal exit (PDEATHSIG's SIGKILL, which no code of ours outlives, a
        crash, a harakiri kill), read() sees EOF and it SIGKILLs the group.  release()
        writes "q" on a normal exit, so a retiring worker's subprocesses are left alone."""
        import subprocess
        r, w = os.pipe()
        try:
            subprocess.Popen(['/bin/sh', '-c', GUARDIAN_SCRIPT], stdin=r, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, close_fds=True)
            self.guardian = w
        except OSError as e:
            os.close(w)
            write_stderr('berth worker %d: warning: cannot start the process-group guardian '
                         '(/bin/sh): %s\n' % (os.getpid(), e))
        finally:
            os.close(r)

    def release(self):
        """A normal exit: the guardian leaves the group alone."""
        if self.guardian is not None:
            try:
                os.write(self.guardian, b'q\n')
            except OSError:
                pass
            self.forget()

    def forget(self):
        """A forked worker drops its copy, so only the zygote's death arms the guardian."""
        if self.guardian is not None:
            os.close(self.guardian)
            self.guardian = None

    def master_gone(self):
        return os.getppid() != self.parent

    def rearm(self, signum=signal.SIGKILL):
        """PR_SET_PDEATHSIG again (fork and credential changes clear it); if the parent
        died before that, nobody would ever send the signal: leave now."""
        arm_parent_death_signal(signum)
        if self.master_gone():
            self.gone()

    def gone(self):
        if self.group_leader:
            try:
                os.killpg(os.getpgrp(), signal.SIGKILL)  # includes us
            except OSError:
                pass
        os._exit(EXIT_MASTER_GONE)


def leads_own_group(cfg):
    """own_group, double-checked: killpg on a group we do not lead could hit the master."""
    return cfg['own_group'] and os.getpgrp() == os.getpid()

