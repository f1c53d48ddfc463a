"""Django's own system check and URLconf, run after the import and before READY.

Django imports views lazily: an app whose views.py has a syntax error imports fine and then
answers 500 on every page.  Loading the root URLconf (which imports every included URLconf and
the views they name) and running the system check the way `manage.py check` does (no database
checks) turns that into a boot failure with the traceback, so a reload is refused before any
traffic moves and a first start fails loudly."""

import os
import sys
import traceback

from .config import BootFailure


def is_django_app():
    """The app configured Django while it was imported (its wsgi.py calls django.setup())."""
    if not os.environ.get('DJANGO_SETTINGS_MODULE') or 'django.conf' not in sys.modules:
        return False
    try:
        from django.conf import settings
        return bool(settings.configured)
    except Exception:
        return False


def run_django_check():
    """BootFailure('check', …) when the URLconf does not load or the check reports errors."""
    if not is_django_app():
        return
    try:
        from django.core import checks
        from django.urls import get_resolver
        get_resolver().url_patterns  # imports urls.py, every include() and the views they name
        messages = checks.run_checks(include_deployment_checks=False)
    except BaseException as e:
        raise BootFailure('check', "Django's system check (reload-check-django) failed: %s: %s"
                          % (type(e).__name__, e), traceback.format_exc())
    errors = [m for m in messages if m.is_serious() and not m.is_silenced()]
    if errors:
        raise BootFailure('check', "Django's system check (reload-check-django) found %d error(s): %s"
                          % (len(errors), '; '.join(str(m) for m in errors)),
                          '\n'.join(str(m) for m in errors))
