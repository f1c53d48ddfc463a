"""Request-target forms and authorities for the worker's HTTP parser (RFC 9112 §3.2, RFC 9110 §4.2, §7.2).

The same rules as src/protocol/http1/target.ts: "/" is origin-form, a lone "*" asterisk-form
(OPTIONS only), a CONNECT target authority-form (CONNECT only), "scheme://" absolute-form,
whose authority stands in for Host; anything else is refused."""

import re

_HOST_BYTE = re.compile(rb"[0-9A-Za-z\-._~%!$&'()*+,;=]*\Z")
_IP_LITERAL_BYTE = re.compile(rb"[0-9A-Za-z\-._~%!$&'()*+,;=:]*\Z")
_PORT = re.compile(rb'[0-9]*\Z')
_SCHEME = re.compile(rb'[A-Za-z][A-Za-z0-9+\-.]*://')
_AUTHORITY_END = re.compile(rb'[/?]')


def authority_host_end(value):
    """uri-host [ ":" port ] (RFC 3986 §3.2.2–§3.2.3): where the host part ends, or -1 when
    `value` (bytes) is not one.  Empty is a valid Host value; no userinfo."""
    if value[:1] == b'[':
        close = value.find(b']')
        if close == -1 or not _IP_LITERAL_BYTE.match(value, 1, close):
            return -1
        host_end = close + 1
    else:
        colon = value.find(b':')
        host_end = len(value) if colon == -1 else colon
        if not _HOST_BYTE.match(value, 0, host_end):
            return -1
    if host_end == len(value):
        return host_end
    if value[host_end:host_end + 1] != b':' or not _PORT.match(value, host_end + 1):
        return -1
    return host_end


def target_form_error(method, target):
    """Why `method` (str) may not use `target` (bytes) (RFC 9112 §3.2.1–§3.2.4), or None."""
    connect = method == 'CONNECT'
    if target[:1] == b'/':
        return 'CONNECT needs an authority-form target, host:port (RFC 9112 §3.2.3)' if connect else None
    if target == b'*':
        return None if method == 'OPTIONS' else 'the asterisk-form target "*" is for OPTIONS only (RFC 9112 §3.2.4)'
    if connect:
        host_end = authority_host_end(target)
        if 0 < host_end < len(target):
            return None
        return 'CONNECT needs an authority-form target, host:port (RFC 9112 §3.2.3)'
    scheme = _SCHEME.match(target)
    if scheme is None:
        return 'request-target is not origin-form ("/...") nor absolute-form ("scheme://...") (RFC 9112 §3.2)'
    start = scheme.end()
    stop = _AUTHORITY_END.search(target, start)
    authority = target[start:len(target) if stop is None else stop.start()]
    if authority_host_end(authority) <= 0:
        return 'absolute-form target without a valid host (RFC 9110 §4.2.1, RFC 9112 §3.2.2)'
    return None


def absolute_form_authority(target):
    """The authority of an absolute-form target (str), which replaces Host (RFC 9112 §3.2.2); else None."""
    if target[:1] in ('/', '*'):
        return None
    scheme = target.find('://')
    if scheme == -1:
        return None
    start = scheme + 3
    end = start
    while end < len(target) and target[end] not in '/?':
        end += 1
    return target[start:end]


def split_target(target):
    """(raw path, query) of an accepted target, as the master's splitTarget (http-environ.ts)."""
    start = 0
    if target[:1] != '/' and target != '*':
        scheme = target.find('://')
        if scheme != -1:
            start = scheme + 3
            while start < len(target) and target[start] not in '/?':
                start += 1
    q = target.find('?', start)
    path = target[start:] if q == -1 else target[start:q]
    return (path or '/', '' if q == -1 else target[q + 1:])
