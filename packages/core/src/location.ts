import { fileURLToPath } from "node:url";

/** A place in a source file, 1-based line and column, as editors print them. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

const FRAME = /(?:\(|at )((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/;

/**
 * Reads the first stack frame of `error` that points at a file on disk.
 * `error.stack` is formatted lazily by V8, so calling this only when a
 * message needs a location keeps the cost off the hot path. With source maps
 * enabled (the loader turns them on) the frame points at the TypeScript source.
 */
export function locationFromStack(error: Error): SourceLocation | undefined {
  const stack = error.stack ?? "";
  for (const line of stack.split("\n").slice(1)) {
    const match = FRAME.exec(line);
    if (match === null) continue;
    const [, where, lineNo, col] = match;
    if (where === undefined || where.startsWith("node:")) continue;
    const file = where.startsWith("file://") ? fileURLToPath(where) : where;
    return { file, line: Number(lineNo), column: Number(col) };
  }
  return undefined;
}
