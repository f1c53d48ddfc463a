/**
 * The static-file options (static-map, check-static, static-expires…): how their values are
 * written, the checks the option table runs on each value (so a bad one is reported with its
 * file and line), and the step of buildConfig that turns them into Config fields, resolving
 * roots and warning about directories that do not exist yet.
 *
 * Value forms follow uWSGI: `static-map = /static=/srv/site/static`,
 * `static-expires-type = text/css=3600`, and for the regexp options either uWSGI's
 * `regexp seconds` or `regexp=seconds`.
 */
import path from 'node:path';
import { kindOf } from './fs-kind.js';
import type { ValueNote } from './option-spec.js';
import type { ExpiresRule, StaticMap } from './schema.js';

/** `/static=/srv/site/static` → mountpoint and root, or why not. */
function parseMapping(value: string): { mountpoint: string; root: string } | string {
  const at = value.indexOf('=');
  if (at < 0) return `'${value}' has no '=' between the mountpoint and the directory`;
  const mount = value.slice(0, at).trim();
  const root = value.slice(at + 1).trim();
  if (!mount.startsWith('/')) return `mountpoint '${mount}' must start with /`;
  if (mount.split('/').some((s) => s === '.' || s === '..')) return `mountpoint '${mount}' must not contain . or .. segments`;
  if (root === '') return `no directory after '${mount}='`;
  return { mountpoint: normalizeMountpoint(mount), root };
}

/** `/static/` and `/static` mean the same mountpoint; `/` stays `/`. */
export function normalizeMountpoint(mount: string): string {
  const trimmed = mount.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

const SECONDS = /^\d{1,10}$/;

/** `text/css=3600` → the MIME type and seconds. */
export function parseTypeRule(value: string): ExpiresRule | string {
  const m = /^\s*([^\s=]+)\s*(?:=|\s)\s*(\S+)\s*$/.exec(value);
  if (m === null) return `'${value}' is not MIME-type=seconds`;
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(m[1]!)) return `'${m[1]!}' is not a MIME type such as text/css`;
  if (!SECONDS.test(m[2]!)) return `'${m[2]!}' is not a whole number of seconds`;
  return { match: m[1]!.toLowerCase(), seconds: Number(m[2]) };
}

/** `regexp seconds` (uWSGI) or `regexp=seconds` → the pattern and seconds. */
export function parseRegexpRule(value: string): ExpiresRule | string {
  const m = /^\s*(.+?)(?:\s+|=)(\S+)\s*$/.exec(value);
  if (m === null) return `'${value}' is not regexp=seconds`;
  if (!SECONDS.test(m[2]!)) return `'${m[2]!}' is not a whole number of seconds`;
  try {
    new RegExp(m[1]!);
  } catch (e) {
    return `'${m[1]!}' is not a valid regular expression (${(e as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  return { match: m[1]!, seconds: Number(m[2]) };
}

const problem = (message: string, fix: string): ValueNote => ({ severity: 'problem', message, fix });

export function checkMapping(option: string): (value: string | null) => ValueNote | undefined {
  return (value) => {
    const r = parseMapping(value ?? '');
    if (typeof r !== 'string') return undefined;
    return problem(`${option}: ${r}`, `write ${option} = /static=/srv/site/static (the URL prefix, '=', then the directory or file)`);
  };
}

export function checkTypeRule(value: string | null): ValueNote | undefined {
  const r = parseTypeRule(value ?? '');
  return typeof r === 'string' ? problem(`static-expires-type: ${r}`, 'write static-expires-type = text/css=86400 (a MIME type, then seconds)') : undefined;
}

export function checkRegexpRule(option: string): (value: string | null) => ValueNote | undefined {
  return (value) => {
    const r = parseRegexpRule(value ?? '');
    if (typeof r !== 'string') return undefined;
    return problem(`${option}: ${r}`, `write ${option} = \\.(css|js)$ 86400 (a JavaScript regular expression, then seconds)`);
  };
}

export function checkIndex(value: string | null): ValueNote | undefined {
  const v = (value ?? '').trim();
  if (v !== '' && !v.includes('/') && !v.includes('\\') && v !== '.' && v !== '..') return undefined;
  return problem(`static-index: '${v}' is not a file name`, 'write a plain file name such as index.html');
}

export function checkSkipExt(value: string | null): ValueNote | undefined {
  const v = (value ?? '').trim();
  if (v !== '' && v !== '.' && !v.includes('/')) return undefined;
  return problem(`static-skip-ext: '${v}' is not a file extension`, 'write an extension such as .py');
}

/** What buildConfig hands over: every assignment of one field, with a way to report. */
export interface StaticInput {
  readonly maps: readonly { readonly value: string; readonly keepMountpoint: boolean; readonly report: Reporter }[];
  readonly checkStatic: readonly { readonly value: string; readonly report: Reporter }[];
  readonly safe: readonly { readonly value: string; readonly report: Reporter }[];
  readonly mimefiles: readonly { readonly value: string; readonly report: Reporter }[];
}

/** Adds a warning placed at the assignment's file and line. */
export type Reporter = (code: string, message: string, fix: string) => void;

/**
 * Roots are resolved like wsgi-file and pythonpath: relative to chdir when it is set, else to
 * the directory Berth was started in. A missing root is a warning, not an error: collectstatic
 * (STATIC_ROOT) or the first upload (MEDIA_ROOT) may create it after Berth starts, and until
 * then requests below the mountpoint go to the app.
 */
export function buildStatic(input: StaticInput, baseDir: string): {
  staticMaps: StaticMap[]; checkStatic: string[]; staticSafe: string[]; mimefiles: string[];
} {
  const staticMaps: StaticMap[] = [];
  for (const m of input.maps) {
    const parsed = parseMapping(m.value);
    if (typeof parsed === 'string') continue;
    const root = path.resolve(baseDir, parsed.root);
    const option = m.keepMountpoint ? 'static-map2' : 'static-map';
    const k = kindOf(root);
    if (k === 'missing') {
      const media = /media|upload/i.test(parsed.mountpoint);
      m.report('no-such-directory', `${option} ${parsed.mountpoint} → ${root}: the directory does not exist; until it does, requests below ${parsed.mountpoint} go to the app`,
        media ? `create it (it is Django's MEDIA_ROOT, where uploads are stored) or correct the path` : 'run `python manage.py collectstatic` (it fills STATIC_ROOT), or correct the path');
    } else if (k === 'other') {
      m.report('not-a-directory', `${option} ${parsed.mountpoint} → ${root} is neither a directory nor a file`, 'point it at the directory that holds the files');
    }
    staticMaps.push({ mountpoint: parsed.mountpoint, root, keepMountpoint: m.keepMountpoint });
  }
  const dirs = (list: StaticInput['checkStatic'], option: string): string[] => list.map((a) => {
    const p = path.resolve(baseDir, a.value);
    const k = kindOf(p);
    if (k !== 'dir') a.report(k === 'missing' ? 'no-such-directory' : 'not-a-directory', `${option} ${p} ${k === 'missing' ? 'does not exist' : 'is not a directory'}`, 'create it or correct the path');
    return p;
  });
  const checkStatic = dirs(input.checkStatic, 'check-static');
  const staticSafe = dirs(input.safe, 'static-safe');
  const mimefiles = input.mimefiles.map((a) => {
    const p = path.resolve(baseDir, a.value);
    if (kindOf(p) !== 'file') a.report('no-such-file', `mimefile ${p} does not exist`, "Berth's built-in table of web types is used; remove the option or install the file (Debian: media-types)");
    return p;
  });
  return { staticMaps, checkStatic, staticSafe, mimefiles };
}
