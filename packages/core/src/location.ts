import { fileURLToPath } from "node:url";

/** A place in a source file, 1-based line and column, as editors print them. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

const FRAME = /(?:\(|at )((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/;

/**
 * A module that fails to link (an import of a name the imported module does not
 * export) has no frame of its own: Node puts its place above the message instead,
 * `<file>:<line>`, then the line and a `^` under the name.
 */
const LINK_HEADER = /^((?:file:\/\/)?\/.*):(\d+)\n[^\n]*\n( *)\^/;

/**
 * Reads the first stack frame of `error` that points at a file on disk (and
 * that `skip` does not leave out: rbuild's own code, when the error came from
 * an API the Buildfile called).
 * `error.stack` is formatted lazily by V8, so calling this only when a
 * message needs a location keeps the cost off the hot path. With source maps
 * enabled (the loader turns them on) the frame points at the TypeScript source.
 */
export function locationFromStack(error: Error, skip?: (file: string) => boolean): SourceLocation | undefined {
  const stack = error.stack ?? "";
  const toPath = (where: string): string => (where.startsWith("file://") ? fileURLToPath(where) : where);
  const header = LINK_HEADER.exec(stack);
  if (header !== null) return { file: toPath(header[1]!), line: Number(header[2]), column: header[3]!.length + 1 };
  for (const line of stack.split("\n").slice(1)) {
    const match = FRAME.exec(line);
    if (match === null) continue;
    const [, where, lineNo, col] = match;
    if (where === undefined || where.startsWith("node:")) continue;
    const file = toPath(where);
    if (skip?.(file) === true) continue;
    return { file, line: Number(lineNo), column: Number(col) };
  }
  return undefined;
}
