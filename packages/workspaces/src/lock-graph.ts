/**
 * What the lockfile readers (npm-lock.ts, pnpm-lock.ts, yarn-lock.ts) share:
 * a lockfile as a graph of entries, each with an id, from which the entries a
 * workspace package installs are found by following what each one resolves.
 */

/** Where a walk starts: a workspace package (or the root, `dir` ""), with what its package.json declares. */
export interface LockStart {
  /** Its directory relative to the workspace root, `""` for the root. */
  readonly dir: string;
  /** What it declares to be installed, name -> spec (yarn v1 finds its entries by these). */
  readonly dependencies: Readonly<Record<string, string>>;
}

/**
 * A lockfile read as a graph: a node per entry (and per start), with an edge
 * to each entry its dependencies resolve to, as its package manager resolves
 * them. A node named by a dependency but missing from the lockfile is a node
 * too (its entry is undefined), so that the lockfile coming to have it changes
 * the digests that reach it.
 */
export interface LockGraph {
  /** The lockfile's fields beside its entries (its version, settings, overrides): part of every package's subset. */
  readonly shared: unknown;
  /** The node a walk from the workspace package (or root) `start` begins at. */
  start(start: LockStart): string;
  /** The nodes the entry of `id` resolves its dependencies to. */
  children(id: string): readonly string[];
  /** The entry of node `id`: what enters the digest. */
  entry(id: string): unknown;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The entries of `record[field]` that are name -> string, as pairs (nothing for anything else). */
export function stringEntries(record: Record<string, unknown>, field: string): [string, string][] {
  const value = record[field];
  if (!isObject(value)) return [];
  return Object.entries(value).filter((pair): pair is [string, string] => typeof pair[1] === "string");
}

/** JSON with every object's keys sorted, so that the same data always has the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.filter((key) => value[key] !== undefined).map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Every top-level field of a parsed lockfile but `tables` (its entries). */
export function sharedFields(doc: Record<string, unknown>, tables: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !tables.includes(key)));
}
