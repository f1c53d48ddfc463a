/**
 * Response fields chosen per file: Expires and Cache-Control from the static-expires* rules
 * (file path, then URI, then MIME type; the first match wins), and whether Accept-Encoding
 * allows a precompressed sibling (static-gzip-all).
 */
import type { Config } from '../config/schema.js';
import { imfFixdate } from '../protocol/http1/date.js';

const NO_HEADERS: readonly string[] = [];

interface Rule {
  readonly re: RegExp;
  readonly seconds: number;
}

/** Whether Accept-Encoding allows `coding` (RFC 9110 §12.5.3): named with q > 0, or `*` with q > 0 and not named. */
export function acceptsEncoding(header: string | undefined, coding: string): boolean {
  if (header === undefined) return false;
  let star: boolean | undefined;
  for (const item of header.split(',')) {
    const [name, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (name === coding) return ok;
    if (name === '*') star = ok;
  }
  return star === true;
}

function compile(rules: Config['staticExpires']): Rule[] {
  const out: Rule[] = [];
  for (const r of rules) {
    try {
      out.push({ re: new RegExp(r.match), seconds: r.seconds });
    } catch {
      // validate.ts refuses bad expressions; nothing to do for one that slipped through.
    }
  }
  return out;
}

export class ExpiryRules {
  readonly #path: readonly Rule[];
  readonly #uri: readonly Rule[];
  readonly #type: ReadonlyMap<string, number>;

  constructor(config: Pick<Config, 'staticExpires' | 'staticExpiresUri' | 'staticExpiresType'>) {
    this.#path = compile(config.staticExpires);
    this.#uri = compile(config.staticExpiresUri);
    this.#type = new Map(config.staticExpiresType.map((r) => [r.match, r.seconds]));
  }

  /** Expires and Cache-Control from the first matching rule: file path, then URI, then MIME type. */
  headers(target: string, filePath: string, contentType: string): readonly string[] {
    if (this.#path.length === 0 && this.#uri.length === 0 && this.#type.size === 0) return NO_HEADERS;
    let seconds: number | undefined = this.#path.find((r) => r.re.test(filePath))?.seconds;
    seconds ??= this.#uri.find((r) => r.re.test(target))?.seconds;
    seconds ??= this.#type.get(contentType.split(';')[0]!.trim().toLowerCase());
    if (seconds === undefined) return [];
    return ['Expires', imfFixdate(Date.now() + seconds * 1000), 'Cache-Control', `max-age=${seconds}`];
  }
}
