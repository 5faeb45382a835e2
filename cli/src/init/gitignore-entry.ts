/**
 * `.rbuild/` (the local cache) in the root .gitignore: appended unless a line
 * already ignores it, leaving every existing byte as it was.
 */

const SPELLINGS = new Set([".rbuild", ".rbuild/", ".rbuild/*", ".rbuild/**"]);

/** Whether a .gitignore line names the root's `.rbuild` directory (with or without a leading `/`). */
function namesCache(pattern: string): boolean {
  return SPELLINGS.has(pattern.startsWith("/") ? pattern.slice(1) : pattern);
}

/**
 * What to append to the .gitignore `existing` (undefined: there is none) so that it
 * ignores `.rbuild/`, or undefined when it already does. Appending, rather than
 * rewriting, keeps the file's bytes as they were, whatever its encoding.
 */
export function cacheIgnoreAddition(existing: string | undefined): string | undefined {
  if (existing === undefined) return ".rbuild/\n";
  let ignored = false;
  for (const line of existing.split(/\r?\n/)) {
    // Trailing blanks are not part of a pattern; a later `!` line undoes an earlier one.
    const pattern = line.replace(/[ \t]+$/, "");
    if (pattern.startsWith("!")) ignored = ignored && !namesCache(pattern.slice(1));
    else if (namesCache(pattern)) ignored = true;
  }
  if (ignored) return undefined;
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  return `${separator}.rbuild/\n`;
}
