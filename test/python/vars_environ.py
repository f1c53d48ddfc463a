"""The worker's environ from the master's CGI block (environ.build_environ, as framed_server.py
builds it), as a JSON-lines filter for test/protocol/http1/request-heads-conformance.test.ts:
each input line {"block": the block, latin1}; each output line the environ's CGI variables
(what the worker adds, wsgi.* and SERVER_SOFTWARE, aside)."""

import io
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'python'))
from berth_runtime.environ import ErrorStream, base_environ, build_environ  # noqa: E402


def main():
    base = base_environ(1, 1, ErrorStream(io.StringIO()))
    for line in sys.stdin:
        env = build_environ(base, json.loads(line)['block'].encode('latin-1'))
        cgi = dict((k, v) for k, v in env.items() if not k.startswith('wsgi.') and k != 'SERVER_SOFTWARE')
        sys.stdout.write(json.dumps(cgi) + '\n')


if __name__ == '__main__':
    main()
