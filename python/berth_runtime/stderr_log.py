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


# Control characters a message may quote from a peer (a method, a REQUEST_URI), escaped so
# they cannot forge or hide a line of the master's log; the same set as src/protocol/peer-text.ts
# (test/fixtures/conformance/log-escapes.json).  Bidi controls too: a viewer that honours them
# would show the rest of the line reordered.
_BIDI = [0x200e, 0x200f] + list(range(0x202a, 0x202f)) + list(range(0x2066, 0x206a))
_CONTROLS = dict((c, '\\x%02x' % c) for c in list(range(0x20)) + [0x7f])
_CONTROLS.update((c, '\\u%04x' % c) for c in list(range(0x80, 0xa0)) + [0x2028, 0x2029] + _BIDI)
_CONTROLS_BUT_NEWLINE = dict(_CONTROLS)
del _CONTROLS_BUT_NEWLINE[0x0a]
# A line break a message does contain (a traceback) starts a marked continuation line, as the
# master's own messages do (src/log/logger.ts).
CONTINUED = '  | '


def neutralise(message):
    """`message` as one log entry: controls escaped, later lines marked CONTINUED."""
    return message.rstrip('\n').translate(_CONTROLS_BUT_NEWLINE).replace('\n', '\n' + CONTINUED)


def log_safe(value):
    """A value from the peer, quoted on one line: every control character escaped."""
    return value.translate(_CONTROLS)


def make_logger(stream):
    prefix = 'berth worker %d: ' % os.getpid()

    def log(line):
        stream.write(prefix + neutralise(line) + '\n')
        stream.flush()
    return log
