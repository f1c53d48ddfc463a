/** The import extractor the architecture test relies on: every form counts, look-alikes in comments and strings do not. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { importSpecifiers, type ImportForm } from './helpers/import-specifiers.js';

type Row = readonly [snippet: string, expected: ReadonlyArray<readonly [specifier: string, form: ImportForm, typeOnly: boolean]>];

const TABLE: readonly Row[] = [
  [`import x from './default.js';`, [['./default.js', 'static', false]]],
  [`import { a, b } from "./named.js";`, [['./named.js', 'static', false]]],
  [`import {\n  a,\n  b,\n} from\n  './multi-line.js';`, [['./multi-line.js', 'static', false]]],
  [`import * as ns from './namespace.js';`, [['./namespace.js', 'static', false]]],
  [`import x, { y } from './default-and-named.js';`, [['./default-and-named.js', 'static', false]]],
  [`import type { T } from './types.js';`, [['./types.js', 'static', true]]],
  [`import { type T, type U } from './inline-types.js';`, [['./inline-types.js', 'static', true]]],
  [`import { type T, v } from './mixed.js';`, [['./mixed.js', 'static', false]]],
  [`import './side-effect.js';`, [['./side-effect.js', 'side-effect', false]]],
  [`import "node:fs";`, [['node:fs', 'side-effect', false]]],
  [`export * from './star.js';`, [['./star.js', 're-export', false]]],
  [`export * as ns from './star-as.js';`, [['./star-as.js', 're-export', false]]],
  [`export { a, b as c } from './named-re-export.js';`, [['./named-re-export.js', 're-export', false]]],
  [`export type { T } from './type-re-export.js';`, [['./type-re-export.js', 're-export', true]]],
  [`const m = await import('./dynamic.js');`, [['./dynamic.js', 'dynamic', false]]],
  [`function f() { return import("./lazy.js").then((m) => m.x); }`, [['./lazy.js', 'dynamic', false]]],
  [`const m = import(\`./template.js\`);`, [['./template.js', 'dynamic', false]]],
  [`const m = await import(name);`, [['<computed: name>', 'dynamic', false]]],
  [`let t: typeof import('./type-query.js');`, [['./type-query.js', 'type-query', true]]],
  [`let t: import('./type-ref.js').T;`, [['./type-ref.js', 'type-query', true]]],
  [`import fs = require('node:fs');`, [['node:fs', 'require', false]]],
  [`import a from './a.js'; export { b } from './b.js';\nimport('./c.js');`, [['./a.js', 'static', false], ['./b.js', 're-export', false], ['./c.js', 'dynamic', false]]],
  // Look-alikes: none of these is an import.
  [`// import x from './comment.js';`, []],
  [`/* export * from './block-comment.js'; import('./c.js') */`, []],
  [`/** import type { T } from './doc-comment.js'; */ const x = 1;`, []],
  [`const s = "import x from './string.js'";`, []],
  [`const s = 'export * from "./string.js"';`, []],
  [`const s = \`import('./template-text.js')\`;`, []],
  [`const re = /from '(\\.[^']+)'/g;`, []],
  [`export { a, b };`, []],
  [`export const from = './not-a-specifier.js';`, []],
  [`obj.import('./method.js');`, []],
];

for (const [snippet, expected] of TABLE) {
  test(`import extractor: ${JSON.stringify(snippet)}`, () => {
    const got = importSpecifiers(snippet).map((s) => [s.specifier, s.form, s.typeOnly] as const);
    assert.deepEqual(got, expected);
  });
}

test('import extractor: the line of each specifier, for messages', () => {
  const lines = importSpecifiers(`// header\nimport a from './a.js';\n\nexport {\n  b,\n} from './b.js';\n`).map((s) => s.line);
  assert.deepEqual(lines, [2, 6]);
});
