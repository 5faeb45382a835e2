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

/** A lockfile read, able to say which of its entries a package installs. */
export interface LockGraph {
  /** The lockfile's fields beside its entries (its version, settings, overrides): part of every package's subset. */
  readonly shared: unknown;
  /**
   * The ids of the entries `start` installs: its own entry (if the lockfile
   * has one for it) and, transitively, the entries its dependencies resolve
   * to, as its package manager resolves them. An id named by a dependency but
   * missing from the lockfile is included too (its entry is undefined), so
   * that the lockfile coming to have it changes the subset.
   */
  closure(start: LockStart): string[];
  /** The entry of an id `closure` returned: what enters the digest. */
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
