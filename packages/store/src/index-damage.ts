/**
 * Damage to the index found while a build uses it: a page that SQLite finds
 * malformed (a flipped byte, a torn write the journal could not repair), or a
 * row whose JSON does not parse. Either means "start the index over" (see
 * Store), as an index that cannot be opened does (open-index.ts): the cache
 * is only a cache, and a damaged one must never fail a build or hit wrongly.
 */

/** A row of the index that does not parse: the index is damaged. Caught by the Store that read it. */
export class DamagedRow extends Error {
  readonly code = "SQLITE_CORRUPT";
}

/** Whether `error` says the index file is damaged (SQLITE_CORRUPT and its extended codes, SQLITE_NOTADB). */
export function isIndexDamage(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT"))) return true;
  return /database disk image is malformed|file is not a database/.test(error.message);
}

/** The JSON of a column of the index; a DamagedRow when it does not parse. */
export function parseColumn<T>(text: string, column: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new DamagedRow(`the ${column} column holds text that is not JSON`);
  }
}
