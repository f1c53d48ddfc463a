"""Text for the master's log: stderr, which it reads line by line."""

import os
import sys


def write_stderr(text):
    """Straight to fd 2: safe in a signal handler that interrupted a sys.stderr write
    (the buffered writer would raise "reentrant call")."""
    try:
        sys.stderr.flush()
    except Exception:
        pass
    data = text.encode('utf-8', 'replace')
    while data:
        try:
            data = data[os.write(2, data):]
        except InterruptedError:
            continue
        except OSError:
            return


def make_logger(stream):
    prefix = 'berth worker %d: ' % os.getpid()

    def log(line):
        stream.write(prefix + line + '\n')
        stream.flush()
    return log
