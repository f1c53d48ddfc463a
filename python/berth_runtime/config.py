"""The worker configuration (BERTH_WORKER_CONFIG) read and checked; BootFailure.

The worker's configuration: BERTH_WORKER_CONFIG read and checked, and BootFailure, the
error that ends a boot with a cause the master can print."""

import json


class BootFailure(Exception):
    def __init__(self, kind, message, tb=''):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message
        self.traceback = tb


CONFIG_DEFAULTS = {'module': None, 'wsgi_file': None, 'callable': 'application', 'chdir': None,
                   'pythonpath': [], 'threads': 1, 'processes': 1, 'worker_id': 1, 'check': False,
                   'django_static': False, 'mode': 'worker', 'channel_path': None, 'token': '',
                   'uid': None, 'gid': None, 'umask': None, 'py_autoreload': 0, 'own_group': False,
                   'direct': None}
DIRECT_KEYS = {'listeners': list, 'backlog': int, 'buffer_size': int, 'limit_post': int, 'timeout_ms': int,
               'manage_script_name': bool, 'mounts': list, 'log_all': bool, 'log_4xx': bool, 'slow_ms': int,
               'relay_path': str, 'token': str}


def read_config(text):
    """Parse and check BERTH_WORKER_CONFIG; missing keys take their defaults."""
    if text is None:
        raise BootFailure('config', 'BERTH_WORKER_CONFIG is not set')
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise BootFailure('config', 'BERTH_WORKER_CONFIG is not valid JSON: %s' % e)
    if not isinstance(raw, dict):
        raise BootFailure('config', 'BERTH_WORKER_CONFIG must be a JSON object')
    cfg = dict(CONFIG_DEFAULTS)
    cfg.update(raw)
    problems = []
    for key in ('module', 'wsgi_file', 'chdir'):
        if cfg[key] is not None and not (isinstance(cfg[key], str) and cfg[key]):
            problems.append('%s must be a non-empty string or null' % key)
    if not isinstance(cfg['callable'], str) or not cfg['callable']:
        problems.append('callable must be a non-empty string')
    if not isinstance(cfg['pythonpath'], list) or not all(isinstance(p, str) for p in cfg['pythonpath']):
        problems.append('pythonpath must be a list of strings')
    for key in ('threads', 'processes', 'worker_id'):
        if type(cfg[key]) is not int or cfg[key] < (0 if key == 'worker_id' else 1):
            problems.append('%s must be a positive integer' % key)
    for key in ('check', 'django_static', 'own_group'):
        if not isinstance(cfg[key], bool):
            problems.append('%s must be true or false' % key)
    if cfg['mode'] not in ('worker', 'zygote'):
        problems.append('mode must be "worker" or "zygote"')
    elif cfg['mode'] == 'zygote' and not (isinstance(cfg['channel_path'], str) and cfg['channel_path']):
        problems.append('channel_path must be the path of the master\'s unix socket in mode "zygote"')
    if not isinstance(cfg['token'], str):
        problems.append('token must be a string')
    for key in ('uid', 'gid'):
        value = cfg[key]
        if not (value is None or (type(value) is int and value >= 0) or (isinstance(value, str) and value)):
            problems.append('%s must be a name, a number or null' % key)
    if cfg['umask'] is not None and not (type(cfg['umask']) is int and 0 <= cfg['umask'] <= 0o777):
        problems.append('umask must be an integer from 0 to 0o777 or null')
    if type(cfg['py_autoreload']) not in (int, float) or cfg['py_autoreload'] < 0:
        problems.append('py_autoreload must be a number of seconds (0 = off)')
    direct = cfg['direct']
    if direct is not None:
        if not isinstance(direct, dict) or any(not isinstance(direct.get(k), t) for k, t in DIRECT_KEYS.items()):
            problems.append('direct must be null or an object with %s' % ', '.join(sorted(DIRECT_KEYS)))
        elif not direct['listeners'] or not all(isinstance(l, dict) and type(l.get('fd')) is int and isinstance(l.get('unix'), bool)
                                                 and type(l.get('index')) is int for l in direct['listeners']):
            problems.append('direct.listeners must list {fd, unix, index} objects')
    if (cfg['module'] is None) == (cfg['wsgi_file'] is None):
        problems.append('exactly one of module and wsgi_file must be set')
    if problems:
        raise BootFailure('config', 'bad BERTH_WORKER_CONFIG: ' + '; '.join(problems))
    return cfg

