/**
 * Mountpoints (`mount = /blog=app`): a request whose path lies below a prefix gets
 * SCRIPT_NAME = prefix and the rest as PATH_INFO (PEP 3333: SCRIPT_NAME + PATH_INFO is the
 * path). The longest matching prefix wins; a path outside every prefix goes to the app with
 * SCRIPT_NAME '' (uWSGI's default-app fallback). Matching is on whole segments: /blog does not
 * claim /blogger.
 */
import type { Mount } from '../config/schema.js';

export class ScriptNameRule {
  readonly #prefixes: readonly string[];

  constructor(mounts: readonly Mount[]) {
    this.#prefixes = [...new Set(mounts.map((m) => m.prefix))].sort((a, b) => b.length - a.length);
  }

  get active(): boolean {
    return this.#prefixes.length > 0;
  }

  /** [SCRIPT_NAME, PATH_INFO] for a decoded path. */
  split(pathInfo: string): readonly [string, string] {
    for (const p of this.#prefixes) {
      if (pathInfo.startsWith(p) && (pathInfo.length === p.length || pathInfo.charCodeAt(p.length) === 47)) {
        return [p, pathInfo.slice(p.length)];
      }
    }
    return ['', pathInfo];
  }
}
