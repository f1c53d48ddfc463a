/**
 * Mountpoints (`mount = /blog=app`): a request whose path lies below a prefix gets
 * SCRIPT_NAME = prefix and the rest as PATH_INFO (PEP 3333: SCRIPT_NAME + PATH_INFO is the
 * path). uWSGI's manage-script-name rule: the longest matching prefix wins; a path outside
 * every prefix goes to the app with SCRIPT_NAME '' (the default-app fallback). Matching is on
 * whole segments: /blog does not claim /blogger. A mountpoint written with a trailing slash
 * (`/blog/`) matches as /blog but stays /blog/ in SCRIPT_NAME, so PATH_INFO loses that slash
 * (and is '' for /blog itself); test/fixtures/conformance/script-name.json holds the cases.
 */
import type { Mount } from '../config/schema.js';

interface Prefix {
  /** The mountpoint without its trailing slash: what a path must start with. */
  readonly match: string;
  /** The mountpoint as written: SCRIPT_NAME. */
  readonly script: string;
}

export class ScriptNameRule {
  readonly #prefixes: readonly Prefix[];

  constructor(mounts: readonly Mount[]) {
    const written = [...new Set(mounts.map((m) => m.prefix))];
    // Stable sort: of two mountpoints matching alike (/a and /a/), the first written wins, as in uWSGI.
    this.#prefixes = written.map((p) => ({ match: p.endsWith('/') ? p.slice(0, -1) : p, script: p }))
      .sort((a, b) => b.match.length - a.match.length);
  }

  get active(): boolean {
    return this.#prefixes.length > 0;
  }

  /** [SCRIPT_NAME, PATH_INFO] for a decoded path. */
  split(pathInfo: string): readonly [string, string] {
    for (const p of this.#prefixes) {
      const m = p.match;
      if (pathInfo.startsWith(m) && (pathInfo.length === m.length || pathInfo.charCodeAt(m.length) === 47)) {
        return [p.script, pathInfo.slice(p.script.length)];
      }
    }
    return ['', pathInfo];
  }
}
