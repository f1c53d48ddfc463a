"""static-from-django: Django's static/media settings and their URL prefixes.

Django's static and media settings for READY, and the URL prefixes
the direct path leaves to the master.  Imported only with django_static."""

import os
import re
import sys


def django_mountpoints(info):
    """STATIC_URL and MEDIA_URL as the URL prefixes the master maps for static-from-django
    ('/static/' -> '/static'); another host or a relative URL maps nothing.  The master's
    djangoMountpoint (src/static/static-files.ts) decides what is mapped; this only has to find
    at least those prefixes, since a relay the master did not need still ends at the app."""
    from urllib.parse import unquote  # only for static-from-django, which has Django loaded
    out = []
    if isinstance(info, dict) and 'error' not in info:
        for url in (info.get('static_url'), info.get('media_url')):
            if url and url.startswith('/') and not url.startswith('//'):
                path = re.split('[?#]', url, 1)[0].rstrip('/')
                if path:
                    out.append(unquote(path))
    return out


def django_static_info():
    """Django's static and media settings for static-from-django, or None when the app did
    not load Django or left its settings unconfigured.  Paths are made absolute here (the
    worker's working directory is the app's); a broken settings module is reported as
    {"error": ...}, never raised, because serving the app matters more than the mapping."""
    if 'django.conf' not in sys.modules:
        return None
    try:
        from django.conf import settings
        if not settings.configured:
            return None

        def text(value):
            if value is None or value == '':
                return None
            return os.fspath(value) if not isinstance(value, str) else value

        def directory(value):
            value = text(value)
            return None if value is None else os.path.abspath(value)

        apps = [a for a in getattr(settings, 'INSTALLED_APPS', []) if isinstance(a, str)]
        return {
            'static_url': text(getattr(settings, 'STATIC_URL', None)),
            'static_root': directory(getattr(settings, 'STATIC_ROOT', None)),
            'media_url': text(getattr(settings, 'MEDIA_URL', None)),
            'media_root': directory(getattr(settings, 'MEDIA_ROOT', None)),
            # An AppConfig path counts too; django.contrib.admindocs does not.
            'installed_apps_has_admin': any(a == 'django.contrib.admin' or a.startswith('django.contrib.admin.')
                                            for a in apps),
            'debug': bool(getattr(settings, 'DEBUG', False)),
        }
    except Exception as e:
        return {'error': '%s: %s' % (type(e).__name__, e)}

