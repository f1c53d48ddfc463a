/**
 * static-from-django: the first ready worker reports Django's STATIC_URL/STATIC_ROOT and
 * MEDIA_URL/MEDIA_ROOT, and they become static-map entries at run time (an explicit static-map
 * for the same mountpoint wins), with plain-words warnings about a STATIC_ROOT that
 * collectstatic has not filled yet. Files are looked up per request, so a STATIC_ROOT filled
 * later, or a MEDIA_ROOT created by the first upload, is picked up. The directory checks are
 * synchronous: this runs once, when the first worker is ready.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DjangoStaticInfo } from '../protocol/worker/payloads.js';
import type { StaticLog } from './serve.js';

/** 'missing', 'empty', or 'filled' (also for something unreadable or not a directory: the request-time lookup copes with those). */
function dirState(dir: string): 'missing' | 'empty' | 'filled' {
  try {
    return fs.readdirSync(dir).length === 0 ? 'empty' : 'filled';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'filled';
  }
}

/** A Django URL setting as a mountpoint: '/static/' → '/static'; null for another host, a relative URL or '/'. */
export function djangoMountpoint(url: string): string | null {
  if (!url.startsWith('/') || url.startsWith('//')) return null;
  const pathOnly = url.replace(/[?#].*$/, '').replace(/\/+$/, '');
  if (pathOnly === '') return null;
  try {
    const segments = pathOnly.slice(1).split('/').map((s) => decodeURIComponent(s));
    return segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\0')) ? null : `/${segments.join('/')}`;
  } catch {
    return null;
  }
}

/**
 * Maps what the worker reported (undefined: the app did not load a configured Django) through
 * `addMapping`, unless `isMapped` says static-map already has that mountpoint, and warns about
 * what would make the admin lose its CSS.
 */
export function addDjangoMappings(info: DjangoStaticInfo | undefined, log: StaticLog, isMapped: (mountpoint: string) => boolean, addMapping: (mountpoint: string, root: string) => void): void {
  const warn = (message: string): void => log('warn', `static-from-django: ${message}`);
  if (info === undefined) {
    warn("the app did not load Django's settings (is it a Django project, with DJANGO_SETTINGS_MODULE set by its wsgi.py?); no static or media mapping was added");
    return;
  }
  if ('error' in info) {
    warn(`reading Django's settings failed (${info.error}); no static or media mapping was added — use static-map instead`);
    return;
  }
  const mount = (setting: string, url: string | null, rootSetting: string, root: string | null): boolean => {
    if (url === null || root === null) return false;
    const mountpoint = djangoMountpoint(url);
    if (mountpoint === null) {
      log('info', `static-from-django: ${setting} ${url} is not a local path below /; Berth does not serve it`);
      return false;
    }
    if (isMapped(mountpoint)) {
      log('info', `static-from-django: ${mountpoint} is already mapped by static-map; ${rootSetting} ${root} is not added`);
      return false;
    }
    addMapping(mountpoint, root);
    log('info', `static-from-django: ${mountpoint} → ${root} (${rootSetting})`);
    return true;
  };
  if (info.static_url !== null && info.static_root === null) {
    warn(`STATIC_ROOT is not set, so the static files (the admin's CSS too) will 404: set STATIC_ROOT in settings.py and run \`python manage.py collectstatic\``);
  }
  if (mount('STATIC_URL', info.static_url, 'STATIC_ROOT', info.static_root)) {
    const root = info.static_root!;
    const state = dirState(root);
    const admin = info.installed_apps_has_admin ? "; until then the admin's CSS will 404" : '';
    if (state !== 'filled') warn(`STATIC_ROOT ${root} ${state === 'missing' ? 'does not exist' : 'is empty'}: run \`python manage.py collectstatic\`${admin}`);
    else if (info.installed_apps_has_admin && !fs.existsSync(path.join(root, 'admin', 'css', 'base.css'))) {
      warn(`django.contrib.admin is installed but ${path.join(root, 'admin', 'css', 'base.css')} is missing, so the admin's CSS would 404: run \`python manage.py collectstatic\``);
    }
  }
  if (mount('MEDIA_URL', info.media_url, 'MEDIA_ROOT', info.media_root) && dirState(info.media_root!) === 'missing') {
    warn(`MEDIA_ROOT ${info.media_root!} does not exist: uploads will 404 until it exists (Django creates it on the first upload, or create it now)`);
  }
}
