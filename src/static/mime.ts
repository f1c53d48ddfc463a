/**
 * Content-Type by file extension.
 *
 * Theory of operation: Berth carries its own table of the types the web needs, so a
 * container without /etc/mime.types (Debian's media-types package) still serves CSS as
 * text/css — browsers refuse a stylesheet or module script sent as text/plain. `mimefile`
 * files (the /etc/mime.types format: `type ext1 ext2 …`, `#` comments) add types and may
 * override the table, except for the PINNED extensions whose type decides whether a browser
 * uses the file at all. Text types get `; charset=utf-8`, as nginx's `charset utf-8` gives
 * them. Extensions are matched case-insensitively; an unknown one is application/octet-stream
 * (RFC 9110 §8.3: the recipient may not sniff it into something executable).
 */
import fs from 'node:fs';

const BUILT_IN: Readonly<Record<string, string>> = {
  // Text and code
  html: 'text/html', htm: 'text/html', shtml: 'text/html', xhtml: 'application/xhtml+xml',
  css: 'text/css', js: 'text/javascript', mjs: 'text/javascript', cjs: 'text/javascript',
  json: 'application/json', map: 'application/json', jsonld: 'application/ld+json',
  webmanifest: 'application/manifest+json', txt: 'text/plain', text: 'text/plain', log: 'text/plain',
  xml: 'text/xml', xsl: 'text/xml', rss: 'application/rss+xml', atom: 'application/atom+xml',
  csv: 'text/csv', tsv: 'text/tab-separated-values', md: 'text/markdown', markdown: 'text/markdown',
  yaml: 'application/yaml', yml: 'application/yaml', toml: 'application/toml',
  ics: 'text/calendar', vcf: 'text/vcard', vtt: 'text/vtt', srt: 'application/x-subrip',
  // Images
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', jpe: 'image/jpeg', gif: 'image/gif',
  webp: 'image/webp', avif: 'image/avif', svg: 'image/svg+xml', svgz: 'image/svg+xml',
  ico: 'image/x-icon', bmp: 'image/bmp', tif: 'image/tiff', tiff: 'image/tiff',
  apng: 'image/apng', heic: 'image/heic', heif: 'image/heif', jxl: 'image/jxl',
  // Fonts
  woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf', eot: 'application/vnd.ms-fontobject',
  // Audio and video
  mp4: 'video/mp4', m4v: 'video/mp4', webm: 'video/webm', ogv: 'video/ogg', mov: 'video/quicktime',
  avi: 'video/x-msvideo', mkv: 'video/x-matroska', mpeg: 'video/mpeg', mpg: 'video/mpeg', ts: 'video/mp2t',
  m3u8: 'application/vnd.apple.mpegurl', mpd: 'application/dash+xml',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', aac: 'audio/aac', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg',
  wav: 'audio/wav', flac: 'audio/flac', weba: 'audio/webm', mid: 'audio/midi', midi: 'audio/midi',
  // Documents and archives
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip',
  br: 'application/octet-stream', bz2: 'application/x-bzip2', xz: 'application/x-xz', zst: 'application/zstd',
  tar: 'application/x-tar', '7z': 'application/x-7z-compressed', rar: 'application/vnd.rar',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text', ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation', rtf: 'application/rtf', epub: 'application/epub+zip',
  // Other web types
  wasm: 'application/wasm', swf: 'application/x-shockwave-flash', jar: 'application/java-archive',
  apk: 'application/vnd.android.package-archive', exe: 'application/octet-stream', bin: 'application/octet-stream',
  iso: 'application/octet-stream', dmg: 'application/octet-stream', deb: 'application/octet-stream',
};

/** Extensions whose built-in type wins over any mimefile: the browser refuses them under a wrong type. */
const PINNED: ReadonlySet<string> = new Set(['css', 'js', 'mjs', 'cjs', 'json', 'map', 'svg', 'svgz', 'wasm', 'woff', 'woff2', 'html', 'htm']);

/** Types that are text: Content-Type gets `; charset=utf-8`. */
export function isTextType(type: string): boolean {
  return type.startsWith('text/') || type === 'application/json' || type === 'application/ld+json' ||
    type === 'application/manifest+json' || type === 'application/xhtml+xml' || type === 'application/rss+xml' ||
    type === 'application/atom+xml' || type === 'application/yaml' || type === 'application/toml' ||
    type === 'image/svg+xml' || type === 'application/x-subrip';
}

export const DEFAULT_TYPE = 'application/octet-stream';

/** Reads /etc/mime.types-format text: `type ext ext …` per line, `#` comments. */
export function parseMimeTypes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const hash = line.indexOf('#');
    const words = (hash === -1 ? line : line.slice(0, hash)).trim().split(/\s+/);
    const type = words[0]?.toLowerCase();
    if (type === undefined || !/^[\w.+-]+\/[\w.+-]+$/.test(type)) continue;
    for (const ext of words.slice(1)) {
      // nginx's mime.types ends lines with ';'; tolerate it.
      const e = ext.replace(/;$/, '').replace(/^\./, '').toLowerCase();
      if (/^[\w.+-]+$/.test(e)) out.set(e, type);
    }
  }
  return out;
}

export class MimeTypes {
  /** extension → full Content-Type value (with charset for text types). */
  readonly #byExt = new Map<string, string>();

  /** `files`: mimefile paths; a file that cannot be read is reported through `onError` and skipped. */
  constructor(files: readonly string[] = [], onError: (file: string, err: Error) => void = () => undefined) {
    for (const [ext, type] of Object.entries(BUILT_IN)) this.#byExt.set(ext, withCharset(type));
    for (const file of files) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        onError(file, err as Error);
        continue;
      }
      for (const [ext, type] of parseMimeTypes(text)) {
        if (!PINNED.has(ext)) this.#byExt.set(ext, withCharset(type));
      }
    }
  }

  /** Content-Type for a file name or path (only the part after the last '/' and '.' counts). */
  lookup(name: string): string {
    const slash = name.lastIndexOf('/');
    const dot = name.lastIndexOf('.');
    if (dot <= slash + 1) return DEFAULT_TYPE; // no extension, or a dot file such as .htaccess
    return this.#byExt.get(name.slice(dot + 1).toLowerCase()) ?? DEFAULT_TYPE;
  }
}

function withCharset(type: string): string {
  return isTextType(type) ? `${type}; charset=utf-8` : type;
}

/** The built-in table (extension → bare type), for tests and for generating an nginx `types {}` block. */
export function builtInTypes(): ReadonlyMap<string, string> {
  return new Map(Object.entries(BUILT_IN));
}
