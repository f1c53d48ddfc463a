/**
 * The error catalogue (docs/errors.md) and the code stay in step: every code is documented, raised
 * by src/ and asserted by a test that triggers it; every error class of src/ is a BerthError named
 * under its code. src/ and test/ are read with the compiler's parser, so comments do not count.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ERROR_CODES } from '../src/errors/berth-error.js';
import { tsFiles } from './helpers/src-graph.js';

const ROOT = process.cwd();
const DOC = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
const CODES = Object.keys(ERROR_CODES).sort();
const CODE_LITERAL = /^BERTH_[A-Z_]+$/;

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

/** BERTH_* string literals anywhere inside `node` (a ternary picks one of two codes, say). */
function codeLiterals(node: ts.Node): string[] {
  const found: string[] = [];
  walk(node, (n) => {
    if (ts.isStringLiteralLike(n) && CODE_LITERAL.test(n.text)) found.push(n.text);
  });
  return found;
}

/** The section of docs/errors.md under `## CODE`, up to the next heading. */
function docSection(code: string): string {
  const start = DOC.indexOf(`\n## ${code}\n`);
  if (start < 0) return '';
  const next = DOC.slice(start + 1).search(/\n#{1,2} /);
  return next < 0 ? DOC.slice(start) : DOC.slice(start, start + 1 + next);
}

interface ErrorClass {
  readonly name: string;
  readonly base: string;
  readonly file: string;
  /** Codes passed to super(…) by its constructor. */
  readonly codes: string[];
}

/** Every class of src/ with an `extends` clause, and every `new X(…)` with the codes in its arguments. */
function scanSrc(): { classes: Map<string, ErrorClass>; constructed: Map<string, string[]> } {
  const classes = new Map<string, ErrorClass>();
  const constructed = new Map<string, string[]>();
  for (const file of tsFiles(join(ROOT, 'src'))) {
    walk(parse(file), (n) => {
      if (ts.isClassDeclaration(n) && n.name !== undefined) {
        const base = n.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression.getText();
        if (base === undefined) return;
        const codes: string[] = [];
        for (const member of n.members) {
          if (!ts.isConstructorDeclaration(member) || member.body === undefined) continue;
          walk(member.body, (m) => {
            if (ts.isCallExpression(m) && m.expression.kind === ts.SyntaxKind.SuperKeyword) codes.push(...m.arguments.flatMap(codeLiterals));
          });
        }
        classes.set(n.name.text, { name: n.name.text, base, file: relative(ROOT, file), codes });
      } else if (ts.isNewExpression(n) && ts.isIdentifier(n.expression)) {
        const list = constructed.get(n.expression.text) ?? [];
        list.push(...(n.arguments ?? []).flatMap(codeLiterals));
        constructed.set(n.expression.text, list);
      }
    });
  }
  return { classes, constructed };
}

const { classes, constructed } = scanSrc();

/** The chain of bases of a src/ class, ending at the first one not declared in src/ (Error, BerthError's Error…). */
function ancestry(name: string): string[] {
  const chain: string[] = [];
  for (let c = classes.get(name); c !== undefined && !chain.includes(c.base); c = classes.get(c.base)) chain.push(c.base);
  return chain;
}

const isBerthError = (name: string): boolean => name === 'BerthError' || ancestry(name).includes('BerthError');
const ERROR_BASES = /^(Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)$/;
const isError = (name: string): boolean => ERROR_BASES.test(name) || ancestry(name).some((b) => ERROR_BASES.test(b));

test('every BERTH_* code is documented in docs/errors.md, and every documented code exists', () => {
  const documented = [...DOC.matchAll(/^## (BERTH_[A-Z_]+)/gm)].map((m) => m[1]!);
  assert.deepEqual(documented.slice().sort(), CODES);
});

test('the scan of src/ sees the errors it must (a guard against a scan that finds nothing)', () => {
  assert.ok(classes.has('BerthError') && isError('BerthError'), 'BerthError is found and is an Error');
  assert.ok((constructed.get('BerthError') ?? []).length > 5, 'new BerthError(…) calls are found');
});

test('every error class of src/ is a BerthError with a literal code, named in the catalogue under that code', () => {
  const problems: string[] = [];
  for (const c of classes.values()) {
    if (c.name === 'BerthError' || !isError(c.name)) continue;
    if (!isBerthError(c.name)) {
      problems.push(`${c.file}: class ${c.name} extends ${c.base}, bypassing the catalogue — extend BerthError with a BERTH_* code documented in docs/errors.md`);
      continue;
    }
    const own = c.codes.length > 0 ? c.codes : classes.get(c.base)?.codes ?? [];
    if (own.length === 0) problems.push(`${c.file}: class ${c.name} passes no literal BERTH_* code to super(), so the catalogue cannot name its code`);
    for (const code of own) {
      if (!new RegExp(`Raised as:[^#]*\`${c.name}\``).test(docSection(code))) problems.push(`docs/errors.md: the section ${code} does not name \`${c.name}\` (${c.file}) on its "Raised as:" line`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every catalogued code is raised by src/ (new BerthError(code), or a subclass that passes it and is constructed)', () => {
  const raised = new Set<string>(constructed.get('BerthError') ?? []);
  for (const c of classes.values()) {
    if (c.name !== 'BerthError' && isBerthError(c.name) && constructed.has(c.name)) for (const code of c.codes) raised.add(code);
  }
  assert.deepEqual(CODES.filter((code) => !raised.has(code)), [], 'codes nothing in src/ raises: raise them where the failure happens, or remove them from the catalogue');
});

/** True when `literal` is compared (an operand of ===/!==) or asserted (inside the arguments of an assert…(…) call). */
function isAsserted(literal: ts.Node): boolean {
  const parent = literal.parent;
  if (ts.isBinaryExpression(parent) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(parent.operatorToken.kind)) return true;
  for (let n: ts.Node = literal; n.parent !== undefined; n = n.parent) {
    if (ts.isCallExpression(n.parent) && n.parent.arguments.includes(n as ts.Expression) && /^assert\b/.test(n.parent.expression.getText())) return true;
  }
  return false;
}

test('every catalogued code is asserted by a test that triggers it', () => {
  const asserted = new Map<string, string[]>();
  const self = new Set(['test/errors.test.ts', 'test/architecture.test.ts', 'test/architecture-imports.test.ts']);
  for (const file of tsFiles(join(ROOT, 'test'))) {
    const where = relative(ROOT, file);
    if (self.has(where)) continue;
    const source = parse(file);
    walk(source, (n) => {
      if (ts.isStringLiteralLike(n) && CODE_LITERAL.test(n.text) && isAsserted(n)) {
        asserted.set(n.text, [...(asserted.get(n.text) ?? []), `${where}:${source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1}`]);
      }
    });
  }
  assert.deepEqual(CODES.filter((code) => !asserted.has(code)), [], 'codes no test asserts: write a test that makes src/ raise each one and checks err.code');
});
