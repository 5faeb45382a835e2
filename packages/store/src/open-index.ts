/**
 * Opening the index, and healing it: an older schema version with migration
 * steps is brought up to date; a file that SQLite cannot read, one written
 * by any other schema version, or one whose schema is not exactly the one
 * this version creates (damaged text in it), is deleted and recreated. The cache is
 * only a cache; starting over costs a rebuild, never a wrong result.
 */
import { accessSync, constants, rmSync } from "node:fs";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import type Database from "better-sqlite3";
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from "./schema.js";
import { removeFreshRecords } from "./fresh-record.js";
import { removeAnsweredBuilds } from "./answered-builds.js";

/**
 * better-sqlite3, loaded on first use: a build that finds everything up to
 * date from its freshness record never opens the index, and need not load the addon.
 */
const load = createRequire(import.meta.url);
function loadSqlite(): typeof Database {
  // require's own cache makes every call after the first a lookup.
  return load("better-sqlite3") as typeof Database;
}

export type Info = (code: string, message: string) => void;

/** Removes the index and, with it, the freshness records: starting over means every task is checked again. */
function removeIndexFiles(path: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${path}${suffix}`, { force: true });
  removeFreshRecords(dirname(path));
  removeAnsweredBuilds(dirname(path));
}

/** The schema of `db` as SQLite keeps it (the statements that made each table, index and trigger). */
function schemaOf(db: Database.Database): string {
  return JSON.stringify(db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").raw().all());
}

/** The schema an index of this version has: that of one just made (a fraction of a millisecond). */
function freshSchema(): string {
  const db = new (loadSqlite())(":memory:");
  try {
    return schemaOf(db.exec(SCHEMA));
  } finally {
    db.close();
  }
}

function tryOpen(path: string, keeperRunning: boolean): { db: Database.Database } | { problem: string } {
  let db: Database.Database | undefined;
  try {
    db = new (loadSqlite())(path, { timeout: 15_000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    // A process with an index keeper leaves checkpoints to it (see index-keeper.ts).
    if (keeperRunning) db.pragma("wal_autocheckpoint = 0");
    const opened = db;
    const ready = opened.transaction(() => {
      let version = opened.pragma("user_version", { simple: true }) as number;
      for (let step = MIGRATIONS[version]; version < SCHEMA_VERSION && step !== undefined; step = MIGRATIONS[version]) {
        opened.exec(step);
        opened.pragma(`user_version = ${++version}`);
      }
      if (version === SCHEMA_VERSION) return undefined;
      const tables = opened.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
      if (version !== 0 || tables.n > 0) return `it has schema version ${version}, this rbuild uses ${SCHEMA_VERSION}`;
      // A new index (none was there, or an empty file: deleted or truncated by hand) numbers its builds
      // from 1 again. Freshness records name builds by number, so those of the old index must go with it,
      // or an entry of old build 2 could pass for new build 2's: a wrong hit.
      removeFreshRecords(dirname(path));
      removeAnsweredBuilds(dirname(path));
      opened.exec(SCHEMA);
      opened.pragma(`user_version = ${SCHEMA_VERSION}`);
      return undefined;
    });
    const problem = ready.immediate();
    if (problem !== undefined) {
      db.close();
      return { problem };
    }
    // Damage to the schema's text (a flipped byte) can leave one that parses but is not ours.
    if (schemaOf(db) !== freshSchema()) {
      db.close();
      return { problem: "its tables are not the ones rbuild creates (a damaged schema)" };
    }
    // Touch every table once, so a damaged file fails here and not in the middle of a build.
    db.prepare("SELECT count(*) FROM actions").get();
    db.prepare("SELECT count(*) FROM stat_cache").get();
    return { db };
  } catch (error) {
    db?.close();
    if (isAccessError(error, path)) throw accessError(path, error as Error);
    return { problem: (error as Error).message };
  }
}

/**
 * Whether SQLite could not write (or open) the index for want of permission:
 * another user's file or directory, a read-only filesystem. Not damage: the
 * index is fine, and deleting it (if that were even allowed) would lose
 * another user's cache.
 */
function isAccessError(error: unknown, path: string): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return false;
  // "Unable to open" is also a directory where the file belongs: only a permission is an access error.
  if (code.startsWith("SQLITE_CANTOPEN")) return !canWrite(path) || !canWrite(dirname(path));
  return code.startsWith("SQLITE_READONLY") || code === "SQLITE_PERM" || code === "EACCES" || code === "EPERM" || code === "EROFS";
}

/** Whether this user may write `path`; true when nothing is there. */
function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT";
  }
}

/** An error of the shape a failed write in the cache has (code and path), for the caller to report: see the CLI's cache-access.ts. */
function accessError(path: string, cause: Error): Error {
  return Object.assign(new Error(`cannot write the cache index ${path}: ${cause.message}`, { cause }), { code: "EACCES", path });
}

/**
 * Deletes the index at `path` (damaged, see index-damage.ts) and opens a new
 * one. The caller has closed its connection and told the user.
 */
export function startIndexOver(path: string, info: Info, keeperRunning = false): Database.Database {
  removeIndexFiles(path);
  return openIndex(path, info, keeperRunning);
}

/** Opens the index at `path`, starting it over if it cannot be used; `keeperRunning`: an IndexKeeper checkpoints it. */
export function openIndex(path: string, info: Info, keeperRunning = false): Database.Database {
  const first = tryOpen(path, keeperRunning);
  if ("db" in first) return first.db;
  info("store-reset", `the cache index ${path} could not be used (${first.problem}); starting it over, so tasks will run again`);
  removeIndexFiles(path);
  const second = tryOpen(path, keeperRunning);
  if ("db" in second) return second.db;
  throw new Error(`Internal error: could not create the cache index ${path}: ${second.problem}`);
}
