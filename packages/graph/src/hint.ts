/**
 * A hint: one thing the analysis found, what it costs and exactly what to
 * change. Each family of hints is a HintRule in its own file under hints/.
 */
import type { GraphAnalysisInput } from "./input.js";

export type Severity = "error" | "warning" | "info";

export type HintCode = "missing-dep" | "missing-import-dep" | "redundant-edge" | "impure-upstream" | "broad-input" | "global-input" | "volatile-input" | "nondeterministic" | "restore-slower" | "serial-bottleneck" | "critical-path";

export interface Hint {
  readonly code: HintCode;
  readonly severity: Severity;
  /** The tasks it is about, the one to change first. */
  readonly tasks: readonly string[];
  readonly message: string;
  /** The facts it rests on (paths, globs, counts, durations), as data. */
  readonly evidence: Readonly<Record<string, unknown>>;
  /** Build time the fix would save, from recorded durations; null when no time is involved or none is recorded. */
  readonly savingMs: number | null;
  /** What to change, in words a user can act on. */
  readonly fix: string;
}

/** A family of hints: a pure function of the input. */
export type HintRule = (input: GraphAnalysisInput) => Hint[];

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Most valuable first: by severity, then by time saved (unknown last), then by code and tasks (stable output). */
export function byValue(a: Hint, b: Hint): number {
  return (
    RANK[a.severity] - RANK[b.severity] ||
    (b.savingMs ?? -1) - (a.savingMs ?? -1) ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
    compareLists(a.tasks, b.tasks)
  );
}

function compareLists(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

/** A name or path quoted as a JavaScript string, so that a fix can be pasted into the Buildfile as it is. */
export function q(text: string): string {
  return JSON.stringify(text);
}

/** A list of names for a message: `"a"`, `"a" and "b"`, `"a", "b" and 2 more`. */
export function quoteList(names: readonly string[], shown = 3): string {
  const quoted = names.slice(0, shown).map((name) => JSON.stringify(name));
  if (names.length > shown) return `${quoted.join(", ")} and ${names.length - shown} more`;
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
}
