"""Berth's sd_notify sender: one datagram to $NOTIFY_SOCKET per line the master writes on stdin.

Node has no unix datagram sockets, so the master keeps this small process beside it. Each
stdin line is a JSON list of "KEY=VALUE" fields; they are sent as one datagram, joined by
newlines (sd_notify(3)). An address starting with '@' is in the abstract namespace. The
process ends when its stdin closes, that is when the master is gone."""

import json
import os
import socket
import sys


def address(text):
    return '\0' + text[1:] if text.startswith('@') else text


def main():
    target = os.environ.get('BERTH_NOTIFY_TARGET', '')
    if not target:
        sys.stderr.write('berth_notify: BERTH_NOTIFY_TARGET is empty\n')
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    complained = False
    for line in sys.stdin.buffer:
        fields = json.loads(line.decode('utf-8'))
        try:
            sock.sendto('\n'.join(fields).encode('utf-8'), address(target))
        except OSError as err:
            # systemd gone or the socket misnamed: say it once, keep reading so the master never blocks.
            if not complained:
                sys.stderr.write('cannot send to NOTIFY_SOCKET=%s: %s\n' % (target, err))
                sys.stderr.flush()
                complained = True
    return 0


if __name__ == '__main__':
    sys.exit(main())
