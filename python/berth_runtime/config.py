"""The worker configuration (BERTH_WORKER_CONFIG) read and checked; BootFailure.

The contract is one table shared with src/protocol/worker/worker-config.ts: both sides refuse a
missing or unknown key by name (test/fixtures/conformance/worker-config.json). BootFailure is
the error that ends a boot with a cause the master can print."""

import json


class BootFailure(Exception):
    def __init__(self, kind, message, tb=''):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message
        self.traceback = tb


def _is_int(value):
    return type(value) is int  # not bool, which JSON's true would be


def _string_or_null(v):
    return v is None or (isinstance(v, str) and v != '')


def _strings(v):
    return isinstance(v, list) and all(isinstance(s, str) for s in v)


def _listeners(v):
    return isinstance(v, list) and len(v) > 0 and all(
        isinstance(l, dict) and len(l) == 3 and _is_int(l.get('fd')) and type(l.get('unix')) is bool
        and _is_int(l.get('index')) for l in v)


# BERTH_WORKER_CONFIG: every key, each with its rule (as test/fixtures/conformance/
# worker-config.json words it) and its check.  src/protocol/worker/worker-config.ts has the
# same table; a key missing or unknown on either side is refused by name.
# worker: a lazy-apps worker spawned alone (berth check); zygote: preload; lazy-zygote: the
# lazy-apps parent, which forks first and lets each worker import the app.
WORKER_MODES = ('worker', 'zygote', 'lazy-zygote')
CONFIG_KEYS = {
    'mode': ('one of', lambda v: v in WORKER_MODES),
    'module': ('non-empty string or null', _string_or_null),
    'wsgi_file': ('non-empty string or null', _string_or_null),
    'callable': ('non-empty string', lambda v: isinstance(v, str) and v != ''),
    'chdir': ('non-empty string or null', _string_or_null),
    'pythonpath': ('list of strings', _strings),
    'threads': ('integer >= 1', lambda v: _is_int(v) and v >= 1),
    'processes': ('integer >= 1', lambda v: _is_int(v) and v >= 1),
    'worker_id': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'check': ('boolean', lambda v: type(v) is bool),
    'django_static': ('boolean', lambda v: type(v) is bool),
    'django_check': ('boolean', lambda v: type(v) is bool),
    'channel_path': ('non-empty string or null', _string_or_null),
    'token': ('string', lambda v: isinstance(v, str)),
    'uid': ('name, integer >= 0 or null', lambda v: _string_or_null(v) or (_is_int(v) and v >= 0)),
    'gid': ('name, integer >= 0 or null', lambda v: _string_or_null(v) or (_is_int(v) and v >= 0)),
    'umask': ('integer 0..511 or null', lambda v: v is None or (_is_int(v) and 0 <= v <= 0o777)),
    'py_autoreload': ('number >= 0', lambda v: type(v) in (int, float) and 0 <= v < float('inf')),
    'own_group': ('boolean', lambda v: type(v) is bool),
    'reload_on_rss': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'direct': ('direct object or null', lambda v: v is None or isinstance(v, dict)),
    'http_direct': ('http-direct object or null', lambda v: v is None or isinstance(v, dict)),
}
DIRECT_KEYS = {
    'listeners': ('non-empty list of {fd: integer, unix: boolean, index: integer}', _listeners),
    'backlog': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'buffer_size': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'limit_post': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'timeout_ms': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'batch': ('boolean', lambda v: type(v) is bool),
    'static_prefixes': ('list of strings', _strings),
    'manage_script_name': ('boolean', lambda v: type(v) is bool),
    'mounts': ('list of strings', _strings),
    'log_all': ('boolean', lambda v: type(v) is bool),
    'log_4xx': ('boolean', lambda v: type(v) is bool),
    'slow_ms': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'relay_path': ('string', lambda v: isinstance(v, str)),
    'token': ('string', lambda v: isinstance(v, str)),
}


def _key_problems(where, value, rules):
    problems = ['%s%s is not a known key' % (where, k) for k in value if k not in rules]
    for key, (rule, check) in rules.items():
        if key not in value:
            problems.append('%s%s is missing (%s)' % (where, key, rule))
        elif not check(value[key]):
            wanted = ' or '.join(WORKER_MODES) if key == 'mode' else 'true or false' if rule == 'boolean' else rule
            problems.append('%s%s must be %s, not %s' % (where, key, wanted, json.dumps(value[key])))
    return problems


def _http_listeners(v):
    return isinstance(v, list) and len(v) > 0 and all(
        isinstance(l, dict) and len(l) == 3 and _is_int(l.get('fd')) and _is_int(l.get('index'))
        and _is_int(l.get('timeout_ms')) and l['timeout_ms'] >= 0 for l in v)


HTTP_DIRECT_KEYS = {
    'listeners': ('non-empty list of {fd: integer, index: integer, timeout_ms: integer >= 0}', _http_listeners),
    'backlog': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'buffer_size': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'limit_post': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'timeout_ms': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'idle_ms': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'static_prefixes': ('list of strings', _strings),
    'mounts': ('list of strings', _strings),
    'log_all': ('boolean', lambda v: type(v) is bool),
    'log_4xx': ('boolean', lambda v: type(v) is bool),
    'slow_ms': ('integer >= 0', lambda v: _is_int(v) and v >= 0),
    'forwarded_allow': ('list of strings', _strings),
}


def read_config(text):
    """Parse and check BERTH_WORKER_CONFIG: exactly the keys of CONFIG_KEYS (and of DIRECT_KEYS
    in `direct`), each by its rule; BootFailure naming every problem otherwise."""
    if text is None:
        raise BootFailure('config', 'BERTH_WORKER_CONFIG is not set')
    try:
        cfg = json.loads(text)
    except ValueError as e:
        raise BootFailure('config', 'BERTH_WORKER_CONFIG is not valid JSON: %s' % e)
    if not isinstance(cfg, dict):
        raise BootFailure('config', 'BERTH_WORKER_CONFIG must be a JSON object')
    problems = _key_problems('', cfg, CONFIG_KEYS)
    if isinstance(cfg.get('direct'), dict):
        problems += _key_problems('direct.', cfg['direct'], DIRECT_KEYS)
    if isinstance(cfg.get('http_direct'), dict):
        problems += _key_problems('http_direct.', cfg['http_direct'], HTTP_DIRECT_KEYS)
    if (cfg.get('module') is None) == (cfg.get('wsgi_file') is None):
        problems.append('exactly one of module and wsgi_file must be set')
    if cfg.get('mode') in ('zygote', 'lazy-zygote') and not (isinstance(cfg.get('channel_path'), str) and cfg['channel_path']):
        problems.append("channel_path must be the master's unix socket in mode %s" % cfg['mode'])
    if problems:
        raise BootFailure('config', 'bad BERTH_WORKER_CONFIG: ' + '; '.join(problems))
    return cfg
