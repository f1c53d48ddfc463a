"""Berth's Python runtime: runs one WSGI app (PEP 3333) for the Berth master.

Started by the master as ``<python> berth_worker.py`` with:
  fd N (env BERTH_CHANNEL_FD, normally 3)  a connected stream socket to the master
  env BERTH_WORKER_CONFIG                  JSON {"module", "wsgi_file", "callable", "chdir",
                                           "pythonpath", "threads", "processes", "worker_id",
                                           "check", "django_static", "mode", "channel_path",
                                           "token", "uid", "gid", "umask", "py_autoreload",
                                           "own_group", "reload_on_rss", "direct"}
  stdout / stderr                          pipes the master logs line by line
  fds 4, 5, ... (config "direct" only)    uwsgi sockets the master bound; this process
                                           listens on them and accepts (direct_server.py)

  mode "worker" (default): this process imports the app and serves on fd N (lazy-apps).
  mode "zygote": this process imports the app once, never serves, and forks workers on
  command; each forked worker connects to channel_path (the master's unix stream socket)
  and introduces itself with HELLO {pid, token}.  uid/gid: a name or a number (string or
  int) or null; umask: int or null; py_autoreload: seconds between MODULES checks (0 =
  off); own_group: true when Berth made this process the leader of a new process group;
reload_on_rss: bytes, 0 = off (memory_guard.py: checked after every request).

The frames are drawn in wire.py (and src/protocol/worker/, which is the reference).

Signals: SIGTERM = finish in-flight requests and exit 0 (zygote: like SHUTDOWN; either
way, if the master is already gone, take the "master gone" path below).  SIGUSR2 =
harakiri stack dump: for every request running in this worker, stderr gets
"berth worker <pid>: harakiri: stack of thread <name> (<ident>) running <METHOD> <URI>"
and that thread's stack; the master SIGKILLs the worker shortly after.  SIGINT is ignored
(a terminal's ^C reaches the master, which decides).  The zygote ignores SIGUSR2.

Exit codes: 0 ok, 2 usage / master broke the protocol, 3 boot failure (channel, chdir,
config, privileges), 4 app import failure (import raised, callable missing), 5 master gone.

Theory of operation
-------------------
Boot: read the config, chdir, build sys.path like uWSGI (pythonpath entries, the
wsgi-file's directory, the working directory), import the module or exec the wsgi-file,
find the callable, send READY.  Any failure sends BOOT_FAIL, prints the same text to
stderr and exits with the code that names the cause, so the master does not respawn in a
loop.

Serving: a FrameReader cuts the byte stream into (id, type, payload) frames; the framed
Server (framed_server.py) routes them: REQUEST builds the environ with one split of the
latin1 block and queues a Request; BODY/BODY_END feed that request's InputStream; ACK/ABORT
update its response window.  Two serving strategies share everything else:

  * InlineServer (threads == 1, framed_inline.py): the main thread recv()s up to 256 KiB,
    runs every complete request in it, collects the outgoing frames in a list and sends them with
    one sendall() per batch.  When the app needs body bytes or the response window is
    full, the waiting code "pumps" the socket itself (flush, recv, route frames), so
    frames for later requests are parked, never lost.
  * ThreadedServer (threads > 1, framed_threaded.py): a reader thread routes frames, T
    threads take requests from a SimpleQueue; sends are combined (the first sender flushes what the
    others queued meanwhile, one sendall for many responses); waits share one Condition.

Every server path calls the app through ONE WSGI core (wsgi_core.py), which owns PEP 3333's
call rules; a path only says how bytes go out (its request class is the core's
sink).  Framed: a list/tuple response (the common case) is joined and sent as ONE FULL
frame; anything else streams as HEAD, BODY..., END, with at most RESPONSE_WINDOW
unacknowledged bytes, so a huge response flows in constant memory.  A wsgi.file_wrapper over
a regular file is not read here at all: HEAD + FILE hand the master our descriptor's number,
offset and length, and the master sends the bytes (see the FILE exchange above).  close() on
the app's iterable is always called, once, before the final frame.  The worker survives any
app exception.  Direct (config "direct", direct_server.py): the worker accepts on the uwsgi
sockets itself and writes HTTP/1.1 responses to nginx, leaving anything else to the master.

Modules: one job each, no import cycles, standard library only; what only some configs use
(direct serving, preload, py-autoreload, privileges, static-from-django) is imported only
when the config asks for it, so a plain worker starts with less to load.

Privileges: after chdir and before sys.path is built and the app imported: umask, then
the group (setgid, then initgroups for the uid's user, or setgroups([gid]) without one),
then the user (setuid).  A name goes through pwd/grp, a number is used as is; a uid
without gid takes the user's primary group.  Any failure is BOOT_FAIL kind "privileges"
naming the option and the fix, exit 3.  The kernel clears PR_SET_PDEATHSIG when the
credentials change, so it is armed again afterwards (and the parent re-checked).

Preload mode (the zygote): boot as above without serving, send READY {"zygote": true},
then wait on the control channel in a single-threaded select() loop that also watches a
self-pipe written for SIGCHLD/SIGTERM (signal.set_wakeup_fd).  FORK: fork(); the parent
answers FORKED; the child returns out of the loop (no zygote frame stays on its stack),
closes the control channel and the self-pipe, restores signal dispositions, re-arms
PR_SET_PDEATHSIG (fork clears it; the zygote is now its parent), connects to
channel_path, sends HELLO and continues exactly like a worker whose import just
finished: the app object already imported is the one it serves, its pages shared
copy-on-write.  CPython's at-fork hooks run in the child (random is re-seeded, logging
and threading locks re-created).  SIGCHLD -> waitpid(pid, WNOHANG) for every forked pid
-> EXITED.  The zygote runs no thread of ours while it forks (the boot watchdog is
stopped first); if the app's import started threads, a warning says fork() is unsafe.

Master death and orphans: the master's death is noticed three ways: EOF on the channel
(recv, a failed send, or a POLLRDHUP watchdog thread while the app runs), SIGTERM
arriving when our parent is no longer the process that started us, and
PR_SET_PDEATHSIG=SIGKILL (the backstop: the kernel kills us even if the app holds the
GIL in C code forever).  Exit code 5.  Apps may start subprocesses that would outlive
us, so when own_group is set and we really lead our process group (getpgrp() ==
getpid(), checked: a wrong flag must never kill the master's group), the first two
paths end with killpg(our group, SIGKILL).  That alone is not enough: the kernel sends
PDEATHSIG microseconds after the dead master's descriptors close, and SIGKILL usually
wins the race against our watchdog (measured: 7 of 10 app subprocesses survived a
SIGKILLed master).  So a group leader also starts a guardian before importing the app:
`sh -c 'read -r line; [ "$line" = q ] || kill -KILL 0'` in our group, its stdin a pipe
whose write end only we hold (close-on-exec, so the app's subprocesses do not get it).
However we die (PDEATHSIG, a crash, the master's harakiri SIGKILL), the pipe closes,
read sees EOF and the guardian SIGKILLs the group; a normal exit writes "q" first, so a
retiring worker's subprocesses are left alone (the master may killpg the group it
created after the exit if it wants them gone too).  Forked workers sit in the zygote's
group and close their copy of the pipe: the zygote's death arms it.  Without own_group
the zygote SIGKILLs its forked workers itself.  A group catches no process that left it
(setsid, setpgid, a daemon's double fork): so the zygote is also the subreaper of its
subtree (subreaper.py), every orphan below it is handed to it, and once the master is
gone it SIGKILLs everything below it before it leaves; it has no parent-death signal for
that reason.  A lazy-apps worker has no such process above it: the kernel SIGKILLs it
with the master, and a process that left its group survives (README says so).

py-autoreload (py_autoreload > 0): the source path of every loaded module (__file__,
.pyc mapped back to its .py, minus the standard library but not site-packages inside
it, minus Berth's own files) goes to the master in MODULES after READY; a daemon thread rescans
every py_autoreload seconds (a dict lookup per module once its path is known) and sends
the whole list again when it grew.  The master watches the files and reloads.  The
request path is untouched: only once that thread exists does the inline server's
flush take a lock (shared with the thread's sends, so they never interleave).

Harakiri dump: nothing is recorded per request.  The SIGUSR2 handler walks every
thread's stack (for its own thread, the frame the signal interrupted, i.e. the app's
stack without the handler) and, where it finds the WSGI core's serve_request frame,
prints that stack under the request in its `req` (harakiri.py); written with os.write(2)
so it cannot collide with a buffered write the signal interrupted.
"""
