"""Mountpoints: SCRIPT_NAME and PATH_INFO of a path, as src/server/script-name.ts splits them."""


def mount_prefixes(mounts):
    """(match, script_name) pairs of the mountpoints as the master sends them, the longest match
    first: a mountpoint written with a trailing slash (/blog/) matches as /blog and stays /blog/
    in SCRIPT_NAME (uWSGI's manage-script-name). Of two that match alike, the first written wins."""
    pairs = []
    for p in dict.fromkeys(mounts):
        pairs.append((p[:-1] if p.endswith('/') else p, p))
    pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
    return pairs


def split_script_name(path, prefixes):
    """(SCRIPT_NAME, PATH_INFO) of a decoded path under `prefixes` (from mount_prefixes): whole
    segments only; a path outside every mountpoint keeps SCRIPT_NAME ''."""
    for match, script in prefixes:
        if path.startswith(match) and (len(path) == len(match) or path[len(match)] == '/'):
            return script, path[len(script):]
    return '', path
