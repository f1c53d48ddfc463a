"""static-from-django, the worker's side: with django_static in its config, READY carries
Django's STATIC/MEDIA settings; without it, or for an app that is not Django, it does not.

Run: python3 -m unittest discover -s test/python   (from the repository root)"""

import json
import os
import pathlib
import shutil
import sys
import tempfile
import types
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_client as wc  # noqa: E402

sys.path.insert(0, os.path.join(wc.ROOT, 'python'))
from berth_runtime.config import BootFailure, read_config  # noqa: E402
from berth_runtime.django_static import django_static_info  # noqa: E402

DJSITE = os.path.join(wc.ROOT, 'test', 'fixtures', 'apps', 'djsite')
DEBIAN_PYTHON = '/usr/bin/python3'


def fake_django(settings):
    return {'django.conf': types.SimpleNamespace(settings=settings)}


class DjangoStaticInfoTest(unittest.TestCase):
    """django_static_info() in this process, against a stand-in django.conf."""

    def test_not_django(self):
        with mock.patch.dict(sys.modules):
            sys.modules.pop('django.conf', None)
            self.assertIsNone(django_static_info())

    def test_unconfigured_settings(self):
        with mock.patch.dict(sys.modules, fake_django(types.SimpleNamespace(configured=False))):
            self.assertIsNone(django_static_info())

    def test_paths_are_made_absolute_and_empty_urls_are_null(self):
        settings = types.SimpleNamespace(
            configured=True, STATIC_URL='/static/', STATIC_ROOT=pathlib.Path('collected'), MEDIA_URL='',
            MEDIA_ROOT='', INSTALLED_APPS=['django.contrib.admindocs', 'shop'], DEBUG=1)
        with mock.patch.dict(sys.modules, fake_django(settings)):
            info = django_static_info()
        self.assertEqual(info, {'static_url': '/static/', 'static_root': os.path.abspath('collected'),
                                'media_url': None, 'media_root': None,
                                'installed_apps_has_admin': False, 'debug': True})

    def test_admin_app_config_counts(self):
        settings = types.SimpleNamespace(configured=True, INSTALLED_APPS=['django.contrib.admin.apps.SimpleAdminConfig'])
        with mock.patch.dict(sys.modules, fake_django(settings)):
            info = django_static_info()
        self.assertIs(info['installed_apps_has_admin'], True)
        self.assertIsNone(info['static_url'])

    def test_a_broken_setting_is_reported_not_raised(self):
        class Settings(object):
            configured = True

            @property
            def STATIC_URL(self):
                raise RuntimeError('settings.py is broken')

        with mock.patch.dict(sys.modules, fake_django(Settings())):
            self.assertEqual(django_static_info(), {'error': 'RuntimeError: settings.py is broken'})

    def test_config_key_must_be_a_bool(self):
        with self.assertRaises(BootFailure) as cm:
            read_config(json.dumps(wc.worker_config(module='x', django_static='yes')))
        self.assertIn('django_static must be true or false', cm.exception.message)
        self.assertIs(read_config(json.dumps(wc.worker_config(module='x')))['django_static'], False)


class DjangoReadyTest(unittest.TestCase):
    """The real djsite project under Debian's python3 (python3-django)."""

    def start(self, **config):
        if not os.path.exists(DEBIAN_PYTHON):
            self.fail('%s is missing: run `sudo bash scripts/install-test-deps.sh`' % DEBIAN_PYTHON)
        tmp = tempfile.mkdtemp(prefix='berth-djstatic-')
        self.addCleanup(shutil.rmtree, tmp, True)
        env = {'DJSITE_DB': os.path.join(tmp, 'db.sqlite3'), 'DJSITE_STATIC_ROOT': os.path.join(tmp, 'static'),
               'DJSITE_MEDIA_ROOT': os.path.join(tmp, 'media')}
        with mock.patch.dict(os.environ, env):
            worker = wc.Worker(python=DEBIAN_PYTHON, chdir=DJSITE, **config)
        self.addCleanup(worker.close)
        return worker, env

    def test_ready_reports_the_settings(self):
        w, env = self.start(module='djsite.wsgi', django_static=True)
        info = w.ready()
        self.assertEqual(info.get('django'), {
            'static_url': '/static/', 'static_root': env['DJSITE_STATIC_ROOT'],
            'media_url': '/media/', 'media_root': env['DJSITE_MEDIA_ROOT'],
            'installed_apps_has_admin': True, 'debug': False}, w.stderr_text() if 'django' not in info else '')

    def test_off_by_default(self):
        w, _ = self.start(module='djsite.wsgi')
        self.assertNotIn('django', w.ready())

    def test_not_a_django_app(self):
        w = wc.Worker(django_static=True)
        self.addCleanup(w.close)
        self.assertNotIn('django', w.ready())


if __name__ == '__main__':
    unittest.main()
