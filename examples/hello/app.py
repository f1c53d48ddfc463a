"""Berth's bundled example: a small WSGI app using only the standard library.

`npm start` serves it on http://localhost:8000 (see berth.ini). It runs under
any Python 3.8+, so it works whatever `python3` is first on PATH.

  GET  /        an HTML page showing the request, the worker pid and thread
  POST /        the same page, echoing the submitted form
  GET  /health  {"status": "ok", "pid": ..., "thread": ...}
"""

import html
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs

STARTED = time.time()
MAX_FORM_BYTES = 64 * 1024

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Berth is running</title>
<style>
 body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
 h1 {{ color: #0b5; }} table {{ border-collapse: collapse; }}
 td, th {{ text-align: left; padding: .15rem .8rem .15rem 0; vertical-align: top; }}
 code, td {{ font-family: ui-monospace, monospace; font-size: 14px; }}
 .echo {{ background: #eef; padding: .5rem 1rem; }}
</style>
</head>
<body>
<h1>Berth is running</h1>
<p>This page was rendered by worker process <b>{pid}</b>, thread <b>{thread}</b>
(Python {python}). Reload a few times to watch requests spread over workers and threads.</p>
{echo}
<h2>Try a form</h2>
<form method="post" action="/">
 <input name="message" placeholder="say something" maxlength="200" required>
 <button type="submit">Send</button>
</form>
<h2>Your request</h2>
<table>
<tr><th>Method</th><td>{method}</td></tr>
<tr><th>Path</th><td>{path}</td></tr>
<tr><th>Query</th><td>{query}</td></tr>
<tr><th>Client</th><td>{client}</td></tr>
<tr><th>Server</th><td>{server}</td></tr>
</table>
<h2>Headers</h2>
<table>{headers}</table>
<p>Health check: <a href="/health"><code>/health</code></a></p>
</body>
</html>
"""


def _read_form(environ):
    """Reads at most MAX_FORM_BYTES of an urlencoded body (PEP 3333: never read
    past CONTENT_LENGTH)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(min(length, MAX_FORM_BYTES)) if length > 0 else b""
    return parse_qs(body.decode("utf-8", "replace"))


def _respond(start_response, status, content_type, body):
    body = body.encode("utf-8")
    start_response(status, [("Content-Type", content_type),
                            ("Content-Length", str(len(body)))])
    return [body]


def home(environ, start_response):
    echo = ""
    if environ["REQUEST_METHOD"] == "POST":
        message = _read_form(environ).get("message", [""])[0]
        echo = '<p class="echo">You said: <b>%s</b></p>' % html.escape(message)
    headers = "".join(
        "<tr><th>%s</th><td>%s</td></tr>" % (
            html.escape(key[5:].replace("_", "-").title()), html.escape(value))
        for key, value in sorted(environ.items()) if key.startswith("HTTP_"))
    esc = lambda key, default="": html.escape(str(environ.get(key, default)))
    page = PAGE.format(
        pid=os.getpid(), thread=threading.current_thread().name,
        python=html.escape(sys.version.split()[0]), echo=echo,
        method=esc("REQUEST_METHOD"), path=esc("PATH_INFO", "/"),
        query=esc("QUERY_STRING") or "&mdash;",
        client="%s:%s" % (esc("REMOTE_ADDR"), esc("REMOTE_PORT")),
        server=esc("SERVER_SOFTWARE", "unknown"), headers=headers)
    return _respond(start_response, "200 OK", "text/html; charset=utf-8", page)


def health(environ, start_response):
    body = json.dumps({"status": "ok", "pid": os.getpid(),
                       "thread": threading.current_thread().name,
                       "uptime_s": round(time.time() - STARTED, 3)})
    return _respond(start_response, "200 OK", "application/json", body)


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    method = environ["REQUEST_METHOD"]
    if path == "/health":
        return health(environ, start_response)
    if path == "/" and method in ("GET", "HEAD", "POST"):
        return home(environ, start_response)
    if path == "/":
        return _respond(start_response, "405 Method Not Allowed", "text/plain", "GET or POST only\n")
    return _respond(start_response, "404 Not Found", "text/plain", "not found: %s\n" % path)
