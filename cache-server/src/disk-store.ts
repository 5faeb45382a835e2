/**
 * The server's storage: blobs and action entries as files, an SQLite index of
 * their sizes, last access and references, and LRU eviction under a size bound.
 *
 *   <dir>/cas/blake3/<2 hex>/<64 hex>   blobs, named by their BLAKE3 digest
 *   <dir>/ac/<2 hex>/<64 hex>           action entries (JSON), named by rbuild key
 *   <dir>/tmp/                          uploads in progress
 *   <dir>/index.sqlite                  entries(kind, name, size, last_access), refs(ac, blob)
 *
 * Invariants: a blob is verified against its name while it streams in and is
 * renamed into place only when complete; an action entry is stored only when
 * every blob it names is present, and is removed before (or with) any blob it
 * references, so a reader never gets an entry whose blobs are gone. The index
 * can always be rebuilt from the files: if it is unreadable it is recreated and
 * the directories are scanned.
 */
import { createWriteStream, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import Database from "better-sqlite3";
import { DigestBuilder } from "@rbuild/hash";

export type Kind = "cas" | "ac";

export type PutResult = "stored" | "mismatch" | "too-large" | "disk-full" | "aborted";

const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE entries (kind TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, last_access INTEGER NOT NULL, PRIMARY KEY (kind, name)) WITHOUT ROWID;
CREATE INDEX entries_lru ON entries(last_access);
CREATE TABLE refs (ac TEXT NOT NULL, blob TEXT NOT NULL, PRIMARY KEY (ac, blob)) WITHOUT ROWID;
CREATE INDEX refs_by_blob ON refs(blob);
`;

class TooLarge extends Error {}

/** The blobs an action entry names: its JSON's `blobs` array of 64-hex digests, or undefined if malformed. */
export function referencedBlobs(bytes: Buffer): string[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  const blobs = (value as { blobs?: unknown } | null)?.blobs;
  if (!Array.isArray(blobs) || !blobs.every((b) => typeof b === "string" && /^[0-9a-f]{64}$/.test(b))) return undefined;
  return blobs as string[];
}

export interface DiskStoreOptions {
  readonly dir: string;
  readonly maxSize: number;
  readonly now?: () => number;
}

export class DiskStore {
  readonly dir: string;
  readonly maxSize: number;
  readonly #db: Database.Database;
  readonly #now: () => number;
  /** Accesses not yet written to the index: written in one transaction by flush(). */
  readonly #accessed = new Map<string, number>();
  #total: number;
  evictions = 0;

  constructor(options: DiskStoreOptions) {
    this.dir = options.dir;
    this.maxSize = options.maxSize;
    this.#now = options.now ?? Date.now;
    for (const sub of ["cas/blake3", "ac", "tmp"]) mkdirSync(join(this.dir, sub), { recursive: true });
    rmSync(join(this.dir, "tmp"), { recursive: true, force: true });
    mkdirSync(join(this.dir, "tmp"));
    const { db, fresh } = openIndex(join(this.dir, "index.sqlite"));
    this.#db = db;
    if (fresh) this.#rescan();
    this.#total = (this.#db.prepare("SELECT coalesce(sum(size), 0) AS n FROM entries").get() as { n: number }).n;
    this.#evict();
  }

  get totalBytes(): number {
    return this.#total;
  }

  path(kind: Kind, name: string): string {
    return kind === "cas" ? join(this.dir, "cas", "blake3", name.slice(0, 2), name) : join(this.dir, "ac", name.slice(0, 2), name);
  }

  /** The size of a stored blob or entry, marking it used; undefined if absent. */
  open(kind: Kind, name: string): number | undefined {
    const size = statSync(this.path(kind, name), { throwIfNoEntry: false })?.size;
    if (size !== undefined) this.#accessed.set(`${kind}/${name}`, this.#now());
    return size;
  }

  has(kind: Kind, name: string): boolean {
    return statSync(this.path(kind, name), { throwIfNoEntry: false }) !== undefined;
  }

  /** Which of `digests` are not stored. */
  missing(digests: readonly string[]): string[] {
    return digests.filter((digest) => !this.has("cas", digest));
  }

  /**
   * Streams a blob to a temp file while hashing it; renames it into place only
   * if its BLAKE3 digest is `digest` and it stays within `maxBlobSize`.
   */
  async putBlob(digest: string, body: Readable, maxBlobSize: number): Promise<PutResult> {
    const received = await this.#receive(body, maxBlobSize);
    if (typeof received === "string") return received;
    if (received.digest !== digest) {
      rmSync(received.temp, { force: true });
      return "mismatch";
    }
    this.#commitBlob(received);
    return "stored";
  }

  /** Stores a blob whose digest the sender did not name (an artifact of another protocol); returns it. */
  async putUnnamedBlob(body: Readable, maxBlobSize: number): Promise<Exclude<PutResult, "stored" | "mismatch"> | { digest: string; size: number }> {
    const received = await this.#receive(body, maxBlobSize);
    if (typeof received === "string") return received;
    this.#commitBlob(received);
    return { digest: received.digest, size: received.size };
  }

  /** Streams a body to a temporary file, measuring and hashing it on the way. */
  async #receive(body: Readable, maxBlobSize: number): Promise<Exclude<PutResult, "stored" | "mismatch"> | { temp: string; digest: string; size: number }> {
    const temp = join(this.dir, "tmp", `${process.pid}-${Math.random().toString(36).slice(2)}`);
    const hasher = new DigestBuilder();
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBlobSize) {
          callback(new TooLarge());
          return;
        }
        hasher.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(temp));
    } catch (error) {
      rmSync(temp, { force: true });
      if (error instanceof TooLarge) return "too-large";
      const code = (error as NodeJS.ErrnoException).code;
      return code === "ENOSPC" || code === "EDQUOT" ? "disk-full" : "aborted";
    }
    return { temp, digest: hasher.digest(), size };
  }

  #commitBlob({ temp, digest, size }: { temp: string; digest: string; size: number }): void {
    const target = this.path("cas", digest);
    mkdirSync(join(target, ".."), { recursive: true });
    renameSync(temp, target);
    this.#record("cas", digest, size);
  }

  /** Stores an action entry that references `blobs`; refused if any is missing. */
  putAction(key: string, bytes: Buffer, blobs: readonly string[]): "stored" | { missing: string[] } {
    const missing = this.missing(blobs);
    if (missing.length > 0) return { missing };
    const target = this.path("ac", key);
    mkdirSync(join(target, ".."), { recursive: true });
    const temp = join(this.dir, "tmp", `${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(temp, bytes);
    renameSync(temp, target);
    const insert = this.#db.prepare("INSERT OR IGNORE INTO refs (ac, blob) VALUES (?, ?)");
    this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM refs WHERE ac = ?").run(key);
      for (const blob of blobs) insert.run(key, blob);
    })();
    this.#record("ac", key, bytes.length);
    return "stored";
  }

  /** An action entry, only if every blob it references is still present (else it is removed). */
  getAction(key: string): Buffer | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path("ac", key));
    } catch {
      return undefined;
    }
    const blobs = (this.#db.prepare("SELECT blob FROM refs WHERE ac = ?").raw().all(key) as [string][]).map(([b]) => b);
    if (this.missing(blobs).length > 0) {
      this.#remove("ac", key);
      return undefined;
    }
    const now = this.#now();
    this.#accessed.set(`ac/${key}`, now);
    for (const blob of blobs) this.#accessed.set(`cas/${blob}`, now); // Using an entry uses its blobs.
    return bytes;
  }

  #record(kind: Kind, name: string, size: number): void {
    const old = this.#db.prepare("SELECT size FROM entries WHERE kind = ? AND name = ?").get(kind, name) as { size: number } | undefined;
    this.#db.prepare("INSERT OR REPLACE INTO entries (kind, name, size, last_access) VALUES (?, ?, ?, ?)").run(kind, name, size, this.#now());
    this.#total += size - (old?.size ?? 0);
    this.#evict();
  }

  #remove(kind: Kind, name: string): void {
    const row = this.#db.prepare("SELECT size FROM entries WHERE kind = ? AND name = ?").get(kind, name) as { size: number } | undefined;
    this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM entries WHERE kind = ? AND name = ?").run(kind, name);
      if (kind === "ac") this.#db.prepare("DELETE FROM refs WHERE ac = ?").run(name);
    })();
    rmSync(this.path(kind, name), { force: true });
    this.#accessed.delete(`${kind}/${name}`);
    if (row !== undefined) this.#total -= row.size;
  }

  /** Least recently used first; a blob takes the entries that reference it with it, first. */
  #evict(): void {
    if (this.#total <= this.maxSize) return;
    this.flush();
    const oldest = this.#db.prepare("SELECT kind, name FROM entries ORDER BY last_access ASC, kind ASC, name ASC LIMIT 1");
    const referencing = this.#db.prepare("SELECT ac FROM refs WHERE blob = ?");
    while (this.#total > this.maxSize) {
      const next = oldest.get() as { kind: Kind; name: string } | undefined;
      if (next === undefined) break;
      if (next.kind === "cas") {
        for (const { ac } of referencing.all(next.name) as { ac: string }[]) {
          this.#remove("ac", ac);
          this.evictions++;
        }
      }
      this.#remove(next.kind, next.name);
      this.evictions++;
    }
  }

  /** Writes recorded accesses to the index. */
  flush(): void {
    if (this.#accessed.size === 0) return;
    const touch = this.#db.prepare("UPDATE entries SET last_access = ? WHERE kind = ? AND name = ?");
    this.#db.transaction(() => {
      for (const [id, time] of this.#accessed) {
        const slash = id.indexOf("/");
        touch.run(time, id.slice(0, slash), id.slice(slash + 1));
      }
    })();
    this.#accessed.clear();
  }

  /** Rebuilds the index from the files on disk (a new or reset index). */
  #rescan(): void {
    const insert = this.#db.prepare("INSERT OR REPLACE INTO entries (kind, name, size, last_access) VALUES (?, ?, ?, ?)");
    this.#db.transaction(() => {
      for (const kind of ["cas", "ac"] as const) {
        const base = kind === "cas" ? join(this.dir, "cas", "blake3") : join(this.dir, "ac");
        for (const shard of readdirSync(base)) {
          for (const name of readdirSync(join(base, shard))) {
            const stat = statSync(join(base, shard, name));
            insert.run(kind, name, stat.size, Math.floor(stat.mtimeMs));
          }
        }
      }
    })();
    // References live in the entries themselves: rebuild them, and drop entries that are not well formed.
    const insertRef = this.#db.prepare("INSERT OR IGNORE INTO refs (ac, blob) VALUES (?, ?)");
    for (const [name] of this.#db.prepare("SELECT name FROM entries WHERE kind = 'ac'").raw().all() as [string][]) {
      let blobs: string[] | undefined;
      try {
        blobs = referencedBlobs(readFileSync(this.path("ac", name)));
      } catch {
        blobs = undefined;
      }
      if (blobs === undefined) this.#remove("ac", name);
      else for (const blob of blobs) insertRef.run(name, blob);
    }
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}

function openIndex(path: string): { db: Database.Database; fresh: boolean } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const db = new Database(path, { timeout: 15_000 });
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version === SCHEMA_VERSION) {
        db.prepare("SELECT count(*) FROM entries").get();
        return { db, fresh: false };
      }
      const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
      if (version === 0 && tables === 0) {
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
        return { db, fresh: true };
      }
      db.close();
    } catch {
      // Unreadable: start over below.
    }
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
  }
  throw new Error(`Internal error: could not create the index ${path}`);
}
