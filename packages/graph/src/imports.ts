/**
 * The module specifiers a TypeScript or JavaScript file imports: `import`,
 * `import type`, `export ... from`, `import()`, `require()` and
 * `import x = require()`, read by TypeScript's pre-processing scanner through
 * ts-morph (`ts.preProcessFile`): it tokenizes without building a syntax tree
 * and without type-checking, about ten times faster than parsing each file
 * with a ts-morph Project (bench/RESULTS.md). ts-morph is loaded on first
 * use: a workspace with no such files never pays for it.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type TsMorph from "ts-morph";

const load = createRequire(import.meta.url);
function typescript(): typeof TsMorph.ts {
  // require's own cache makes every call after the first a lookup.
  return (load("ts-morph") as typeof TsMorph).ts;
}

/** The files whose imports are read: TypeScript and JavaScript sources, not installed packages. */
const SCRIPT = /\.(?:[cm]?tsx?|[cm]?jsx?)$/;
const NODE_MODULES = /(?:^|\/)node_modules\//;

export function isScript(path: string): boolean {
  return SCRIPT.test(path) && !NODE_MODULES.test(path);
}

/** The specifiers `text` imports, in order of appearance, each once. */
export function importSpecifiers(text: string): string[] {
  const info = typescript().preProcessFile(text, true, true);
  return [...new Set(info.importedFiles.map((file) => file.fileName))];
}

/** For each of `files` (relative to `root`) that is a script: what it imports. Unreadable files are left out. */
export function scanImports(root: string, files: Iterable<string>): Map<string, readonly string[]> {
  const imports = new Map<string, readonly string[]>();
  for (const file of files) {
    if (!isScript(file) || imports.has(file)) continue;
    let text: string;
    try {
      text = readFileSync(join(root, file), "utf8");
    } catch {
      continue; // Removed since the globs were expanded, or not a file: nothing to import.
    }
    imports.set(file, importSpecifiers(text));
  }
  return imports;
}
