"""reload-check-django, the worker's side: after the import, a Django app's URLconf is loaded
and its system check run; a failure is a BootFailure of kind 'check' with the traceback, and
an app that is not Django is left alone.  Stand-in django modules, so it runs on any Python.

Run: python3 -m unittest discover -s test/python   (from the repository root)"""

import os
import sys
import types
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime.config import BootFailure  # noqa: E402
from berth_runtime.django_check import run_django_check  # noqa: E402


class Message:
    def __init__(self, text, serious=True, silenced=False):
        self.text, self.serious, self.silenced = text, serious, silenced

    def is_serious(self):
        return self.serious

    def is_silenced(self):
        return self.silenced

    def __str__(self):
        return self.text


def fake_django(url_patterns, messages):
    """sys.modules entries for a configured Django whose URLconf and check behave as given."""
    class Resolver:
        @property
        def url_patterns(self):
            return url_patterns()
    core = types.ModuleType('django.core')
    core.checks = types.SimpleNamespace(run_checks=lambda include_deployment_checks: messages)
    urls = types.ModuleType('django.urls')
    urls.get_resolver = Resolver
    return {'django': types.ModuleType('django'), 'django.conf': types.SimpleNamespace(settings=types.SimpleNamespace(configured=True)),
            'django.core': core, 'django.urls': urls}


def broken_views():
    exec(compile('def index(request)\n    pass\n', '/srv/site/hello/views.py', 'exec'))


class DjangoCheckTest(unittest.TestCase):
    def test_not_django_is_left_alone(self):
        with mock.patch.dict(sys.modules), mock.patch.dict(os.environ, {'DJANGO_SETTINGS_MODULE': 'mysite.settings'}):
            sys.modules.pop('django.conf', None)
            self.assertIsNone(run_django_check())

    def test_no_settings_module_is_left_alone(self):
        env = {k: v for k, v in os.environ.items() if k != 'DJANGO_SETTINGS_MODULE'}
        with mock.patch.dict(sys.modules, fake_django(broken_views, [])), mock.patch.dict(os.environ, env, clear=True):
            self.assertIsNone(run_django_check())

    def test_a_urlconf_that_does_not_import_fails_with_its_traceback(self):
        with mock.patch.dict(sys.modules, fake_django(broken_views, [])), \
                mock.patch.dict(os.environ, {'DJANGO_SETTINGS_MODULE': 'mysite.settings'}):
            with self.assertRaises(BootFailure) as caught:
                run_django_check()
        self.assertEqual(caught.exception.kind, 'check')
        self.assertIn("Django's system check (reload-check-django) failed: SyntaxError", caught.exception.message)
        self.assertIn('/srv/site/hello/views.py", line 1', caught.exception.traceback)

    def test_serious_messages_fail_warnings_and_silenced_ones_pass(self):
        messages = [Message('hello.E001: broken'), Message('hello.W001: meh', serious=False), Message('hello.E002: hushed', silenced=True)]
        with mock.patch.dict(sys.modules, fake_django(lambda: [], messages)), \
                mock.patch.dict(os.environ, {'DJANGO_SETTINGS_MODULE': 'mysite.settings'}):
            with self.assertRaises(BootFailure) as caught:
                run_django_check()
        self.assertEqual(caught.exception.message, "Django's system check (reload-check-django) found 1 error(s): hello.E001: broken")
        with mock.patch.dict(sys.modules, fake_django(lambda: [], messages[1:])), \
                mock.patch.dict(os.environ, {'DJANGO_SETTINGS_MODULE': 'mysite.settings'}):
            self.assertIsNone(run_django_check())


if __name__ == '__main__':
    unittest.main()
