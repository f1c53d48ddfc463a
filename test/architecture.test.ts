/**
 * Dependencies point one way (DESIGN.md): cli → master/supervise → router → worker/log/static/proxy →
 * server → protocol; config and errors are leaves anyone may use; only cli imports stats (to start it). Every import
 * form counts (the compiler's parser finds them, see test/helpers/import-specifiers.ts), type-only
 * ones too: a type import up the layers is the first step of a value import up the layers.
 * The one exception to "nothing imports stats" is cli, the composition root: it starts the views
 * (`berth top`) that stats provides, as it starts everything else.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { areaOf, findCycles, srcImports, tsFiles } from './helpers/src-graph.js';

const SRC = join(process.cwd(), 'src');
const IMPORTS = srcImports(SRC);

/** An area may import areas of a lower rank, and the leaves (rank 0). Equal ranks may not import each other. */
const RANK: Readonly<Record<string, number>> = {
  errors: 0, config: 0,
  protocol: 1,
  server: 2,
  worker: 3, log: 3, static: 3, proxy: 3,
  router: 4,
  master: 5, supervise: 5, stats: 5,
  cli: 6,
};

test('every directory of src/ has a place in the layer table', () => {
  const areas = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
  assert.deepEqual(areas.filter((a) => RANK[a] === undefined), [], 'add the new area to RANK (and to the layout in DESIGN.md)');
});

test('the parser sees the imports of src/ (a guard against a test that checks nothing)', () => {
  assert.ok(tsFiles(SRC).length > 100, 'src/ has over a hundred .ts files');
  assert.ok(IMPORTS.filter((i) => i.to !== null && areaOf(i.to) !== areaOf(i.from)).length > 50, 'and imports across areas');
  assert.ok(IMPORTS.some((i) => i.form === 're-export'), 'including re-exports');
});

test('every relative import names a file that exists', () => {
  const missing = IMPORTS.filter((i) => i.to !== null && !existsSync(join(SRC, i.to)));
  assert.deepEqual(missing.map((i) => `${i.from}:${i.line} imports '${i.specifier}', which is not a file of src/`), []);
});

/** The run-time dependencies package.json declares, each used by one area only (prom-client: the Prometheus format). */
const DEPENDENCIES: Readonly<Record<string, string>> = { 'prom-client': 'stats' };

test('src/ imports only node: builtins, its own files and the declared dependencies (each from its one area)', () => {
  const builtins = new Set(builtinModules);
  const declared = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  assert.deepEqual(declared.sort(), Object.keys(DEPENDENCIES).sort(), 'package.json dependencies and this table agree');
  const offenders = IMPORTS.filter((i) => i.to === null && !(i.specifier.startsWith('node:') && builtins.has(i.specifier.slice(5))) && DEPENDENCIES[i.specifier] !== areaOf(i.from));
  assert.deepEqual(offenders.map((i) => `${i.from}:${i.line} imports '${i.specifier}' (write node:<builtin>, or a relative path)`), []);
});

test('every src/ import respects the layer order', () => {
  const violations: string[] = [];
  for (const i of IMPORTS) {
    if (i.to === null) continue;
    const from = areaOf(i.from);
    const to = areaOf(i.to);
    if (to === from) continue;
    const where = `${i.from}:${i.line} (${from}) imports '${i.specifier}' (${to})${i.typeOnly ? ', types only' : ''}`;
    const rf = RANK[from];
    const rt = RANK[to];
    // cli builds the objects (main → run) and starts the stats server; no other area imports stats.
    if (to === 'stats' && from !== 'cli') violations.push(`${where}: stats only subscribes to diagnostics channels; only cli (which starts it) imports it`);
    else if (rf === undefined || rt === undefined) violations.push(`${where}: area not in the layer table`);
    else if (rf === 0 && rt !== 0) violations.push(`${where}: ${from} is a leaf and may import only leaves`);
    else if (rt >= rf && rt !== 0) violations.push(`${where}: dependencies must point down the layers`);
  }
  assert.deepEqual(violations, []);
});

test('src/ has no import cycles', () => {
  const edges = new Map<string, Set<string>>();
  for (const i of IMPORTS) if (i.to !== null) edges.set(i.from, (edges.get(i.from) ?? new Set()).add(i.to));
  assert.deepEqual(findCycles(edges).map((c) => c.join(' → ')), []);
});

/** Builtins that touch the world: files, sockets, processes, threads, clocks and timers, the terminal, the host. */
const IO_BUILTINS = [
  'fs', 'fs/promises', 'net', 'tls', 'dgram', 'dns', 'dns/promises', 'http', 'https', 'http2', 'child_process',
  'cluster', 'worker_threads', 'timers', 'timers/promises', 'process', 'readline', 'readline/promises', 'os', 'tty',
  'inspector', 'inspector/promises', 'perf_hooks', 'async_hooks', 'vm', 'v8', 'repl', 'module', 'wasi', 'trace_events',
  'diagnostics_channel', 'stream', 'stream/promises', 'stream/web', 'zlib', 'crypto', 'sqlite', 'test',
];
/** Builtins a codec may use: bytes, text and pure helpers. Anything on neither list must be put on one. */
const PURE_BUILTINS = ['buffer', 'string_decoder', 'util', 'util/types', 'assert', 'assert/strict', 'url', 'querystring', 'punycode', 'path', 'path/posix', 'events'];

test('protocol codecs are sans-IO: no node: I/O module, no package', () => {
  const offenders: string[] = [];
  for (const i of IMPORTS) {
    if (areaOf(i.from) !== 'protocol') continue;
    if (i.to !== null) continue;
    const name = i.specifier.replace(/^node:/, '');
    if (IO_BUILTINS.includes(name)) offenders.push(`${i.from}:${i.line} imports '${i.specifier}': codecs take bytes and return events, the caller does the I/O`);
    else if (!i.specifier.startsWith('node:') || !PURE_BUILTINS.includes(name)) offenders.push(`${i.from}:${i.line} imports '${i.specifier}', which is on neither list of this test: classify it`);
  }
  assert.deepEqual(offenders, []);
});

/** Globals that do I/O or schedule work, reached without any import. */
const IO_GLOBALS = new Set(['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'process', 'fetch', 'require']);

test('protocol codecs are sans-IO: no timers, process or fetch reached through globals', () => {
  const offenders: string[] = [];
  for (const file of tsFiles(join(SRC, 'protocol'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      // An identifier used as a value, not as a property name (`frame.process`) or a declaration name.
      if (ts.isIdentifier(node) && IO_GLOBALS.has(node.text) && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node) && !ts.isPropertyAssignment(node.parent) && !ts.isPropertySignature(node.parent) && !ts.isPropertyDeclaration(node.parent)) {
        offenders.push(`${file.slice(SRC.length + 1)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1} uses ${node.text}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  assert.deepEqual(offenders, []);
});

test('every src/ file opens with one line saying what it is for', () => {
  const unclear: string[] = [];
  for (const file of tsFiles(SRC)) {
    const [first = '', second = ''] = readFileSync(file, 'utf8').split('\n');
    // `/** What it is for. */` on one line, or `/**` then ` * What it is for.` — a summary, not
    // the start of a longer theory.
    const summary = first.startsWith('/** ') ? first.slice(4) : first === '/**' ? second.replace(/^ \* ?/, '') : '';
    if (summary.trim().length < 12 || /^Theory of operation/.test(summary)) unclear.push(`${file.slice(SRC.length + 1)}: ${JSON.stringify(summary || first)}`);
  }
  assert.deepEqual(unclear, [], 'open each file with a one-line summary of what it is for');
});
