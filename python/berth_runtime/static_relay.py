"""Which direct requests belong to the master's static stage: the relay decision of uwsgi-direct.

Pure functions, run by test/fixtures/conformance/static-relay.json against the master's own
claims (src/static/static-files.ts), so a request the master would answer from a static root is
never served by the app in a worker."""


def static_prefixes_of(mountpoints):
    """The static-map / static-from-django mountpoints as for_static_stage tests them: without a
    trailing '/', so the mountpoint '/' is '' and needs no case of its own; None for none."""
    return tuple(set(p.rstrip('/') for p in mountpoints)) or None


def for_static_stage(prefixes, vars_):
    """Whether the master's static stage may answer this request (static-map,
    static-from-django), so the direct path relays it: a GET or HEAD whose REQUEST_URI path is
    a mountpoint or below one.  The master matches decoded segments; anything this plain
    prefix test could misjudge (a %-escape, an empty or dot segment, a backslash, a non-ASCII
    character the master reads as UTF-8, no REQUEST_URI at all) goes to the master too, which
    falls through to the app when no file is there."""
    method = vars_.get('REQUEST_METHOD', 'GET')
    if method != 'GET' and method != 'HEAD':
        return False
    target = vars_.get('REQUEST_URI')
    if target is None:
        return True
    q = target.find('?')
    path = target if q == -1 else target[:q]
    if path[:1] != '/' or '%' in path or '//' in path or '/.' in path or '\\' in path or not path.isascii():
        return True
    for prefix in prefixes:
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == '/'):
            return True
    return False
