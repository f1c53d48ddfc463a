/** The import graph of src/: every .ts file and the src/ files and node: modules each one imports. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { importSpecifiers, type ImportSite } from './import-specifiers.js';

export interface SrcImport extends ImportSite {
  /** Importing file, relative to src/ (e.g. `server/listeners.ts`). */
  readonly from: string;
  /** Imported src/ file relative to src/, or null for a package / `node:` builtin. */
  readonly to: string | null;
}

export function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Top directory of a src/-relative path: its layer (`server`, `protocol`, …). */
export function areaOf(srcRelative: string): string {
  return srcRelative.split('/')[0]!;
}

export function srcImports(srcDir: string): SrcImport[] {
  return tsFiles(srcDir).flatMap((file) => {
    const from = relative(srcDir, file);
    return importSpecifiers(readFileSync(file, 'utf8'), file).map((site) => ({
      ...site,
      from,
      to: site.specifier.startsWith('.') ? relative(srcDir, resolve(dirname(file), site.specifier.replace(/\.js$/, '.ts'))) : null,
    }));
  });
}

/**
 * Cycles among files as `a → b → … → a`: one per back edge of a depth-first search, so the result
 * is empty exactly when the graph has no cycle (it need not list every cycle of a tangle).
 */
export function findCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const walk = (node: string): void => {
    seen.add(node);
    stack.push(node);
    onStack.add(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (onStack.has(next)) cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!seen.has(next)) walk(next);
    }
    stack.pop();
    onStack.delete(node);
    done.add(node);
  };
  for (const node of [...edges.keys()].sort()) if (!done.has(node)) walk(node);
  return cycles;
}
