/** Lists every module specifier a TypeScript file names, using the compiler's own parser (no regexes). */
import ts from 'typescript';

export type ImportForm = 'static' | 'side-effect' | 're-export' | 'dynamic' | 'type-query' | 'require';

export interface ImportSite {
  readonly specifier: string;
  readonly form: ImportForm;
  /** 1-based line of the specifier, for messages a person can follow. */
  readonly line: number;
  /** True when only types cross (`import type`, `export type`, `typeof import()`): erased at run time. */
  readonly typeOnly: boolean;
}

/**
 * Every import form: `import x / {a} / * as / type … from`, `import '…'`, `export * / {a} / type {…} from`,
 * `import('…')`, `typeof import('…')`, `import x = require('…')`. Comments and strings that only look
 * like imports are not nodes of these kinds, so they never count. A computed `import(x)` is listed
 * as `<computed: x>`, which no rule accepts.
 */
export function importSpecifiers(text: string, fileName = 'snippet.ts'): ImportSite[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const sites: ImportSite[] = [];
  const add = (literal: ts.Node, form: ImportForm, typeOnly: boolean): void => {
    const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1;
    // A computed `import(name)` cannot be checked, so it is reported as such rather than skipped.
    const specifier = ts.isStringLiteralLike(literal) ? literal.text : `<computed: ${literal.getText(source)}>`;
    sites.push({ specifier, form, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      if (clause === undefined) add(node.moduleSpecifier, 'side-effect', false);
      else add(node.moduleSpecifier, 'static', clause.isTypeOnly || allNamedTypeOnly(clause));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      add(node.moduleSpecifier, 're-export', node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined) {
      add(node.arguments[0], 'dynamic', false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, 'type-query', true);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, 'require', node.isTypeOnly);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sites;
}

/** `import { type A, type B } from` names only types; it is erased like `import type`. */
function allNamedTypeOnly(clause: ts.ImportClause): boolean {
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  return bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}
