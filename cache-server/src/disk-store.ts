/**
 * The server's storage: blobs and entries as files, an SQLite index of their
 * sizes, last access and references, and one LRU eviction under a size bound,
 * across every protocol (key spaces: see key-spaces.ts).
 *
 *   <dir>/cas/<function>/<2 hex>/<64 hex>   blobs, named by their digest (blake3, sha256)
 *   <dir>/ac/<protocol>/<2 hex>/<name>      entries (JSON naming blobs), one space per protocol
 *   <dir>/tmp/                              uploads in progress
 *   <dir>/index.sqlite                      entries(kind = space, name, size, last_access),
 *                                           refs(ac = "<space>/<name>", blob = "<space>/<digest>")
 *
 * Invariants: a blob is verified against its name while it streams in and is
 * renamed into place only when complete and on disk (fsynced first: after a
 * power cut the name could otherwise point at a short file, which a client
 * that does not verify would take as the blob); an action entry is stored only when
 * every blob it names is present, and is removed before (or with) any blob it
 * references, so a reader never gets an entry whose blobs are gone. The
 * directories are not fsynced after a rename: a rename a power cut undid is a
 * blob or entry missing, which is a miss (an entry whose blob is gone is
 * removed when read), never a wrong hit. The index
 * can always be rebuilt from the files: if it is unreadable it is recreated and
 * the directories are scanned.
 */
import { createWriteStream, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import Database from "better-sqlite3";
import { CONTENT_OF, CONTENT_SPACES, ENTRY_SPACES, hasherFor, isContentSpace, type ContentSpace, type EntrySpace, type Space } from "./key-spaces.js";

export type PutResult = "stored" | "mismatch" | "too-large" | "disk-full" | "aborted";

/** 2: key spaces (the store of version 1 had `cas/blake3` and `ac` only; its entries are dropped). */
const SCHEMA_VERSION = 2;
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
    for (const sub of [...CONTENT_SPACES, ...ENTRY_SPACES, "tmp"]) mkdirSync(join(this.dir, sub), { recursive: true });
    // Version 1 kept rbuild's entries in ac/<2 hex>/: they are not worth a migration (a cache), so they go.
    for (const old of readdirSync(join(this.dir, "ac"))) if (/^[0-9a-f]{2}$/.test(old)) rmSync(join(this.dir, "ac", old), { recursive: true, force: true });
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

  path(space: Space, name: string): string {
    return join(this.dir, space, name.slice(0, 2), name);
  }

  /** The size of a stored blob or entry, marking it used; undefined if absent. */
  open(space: Space, name: string): number | undefined {
    const size = statSync(this.path(space, name), { throwIfNoEntry: false })?.size;
    if (size !== undefined) this.#accessed.set(`${space}/${name}`, this.#now());
    return size;
  }

  has(space: Space, name: string): boolean {
    return statSync(this.path(space, name), { throwIfNoEntry: false }) !== undefined;
  }

  /** Which of `digests` are not stored in `space`. */
  missing(space: ContentSpace, digests: readonly string[]): string[] {
    return digests.filter((digest) => !this.has(space, digest));
  }

  /**
   * Streams a blob to a temp file while hashing it; renames it into place only
   * if its digest (by the space's function) is `digest` and it stays within `maxBlobSize`.
   */
  async putBlob(space: ContentSpace, digest: string, body: Readable, maxBlobSize: number): Promise<PutResult> {
    const received = await this.#receive(space, body, maxBlobSize);
    if (typeof received === "string") return received;
    if (received.digest !== digest) {
      rmSync(received.temp, { force: true });
      return "mismatch";
    }
    this.#commitBlob(space, received);
    return "stored";
  }

  /** Stores a blob whose digest the sender did not name (a value of another protocol); returns it. */
  async putUnnamedBlob(
    space: ContentSpace,
    body: Readable,
    maxBlobSize: number,
  ): Promise<Exclude<PutResult, "stored" | "mismatch"> | { digest: string; size: number }> {
    const received = await this.#receive(space, body, maxBlobSize);
    if (typeof received === "string") return received;
    this.#commitBlob(space, received);
    return { digest: received.digest, size: received.size };
  }

  /** Streams a body to a temporary file, measuring and hashing it on the way. */
  async #receive(
    space: ContentSpace,
    body: Readable,
    maxBlobSize: number,
  ): Promise<Exclude<PutResult, "stored" | "mismatch"> | { temp: string; digest: string; size: number }> {
    const temp = join(this.dir, "tmp", `${process.pid}-${Math.random().toString(36).slice(2)}`);
    const hasher = hasherFor(space);
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
      // flush: fsynced before it is closed, so on disk before it is renamed (see the module's invariants).
      await pipeline(body, meter, createWriteStream(temp, { flush: true }));
    } catch (error) {
      rmSync(temp, { force: true });
      if (error instanceof TooLarge) return "too-large";
      const code = (error as NodeJS.ErrnoException).code;
      return code === "ENOSPC" || code === "EDQUOT" ? "disk-full" : "aborted";
    }
    return { temp, digest: hasher.digest(), size };
  }

  #commitBlob(space: ContentSpace, { temp, digest, size }: { temp: string; digest: string; size: number }): void {
    const target = this.path(space, digest);
    mkdirSync(join(target, ".."), { recursive: true });
    renameSync(temp, target);
    this.#record(space, digest, size);
  }

  /** Stores an entry that references `blobs` (of the space's content space); refused if any is missing. */
  putAction(space: EntrySpace, key: string, bytes: Buffer, blobs: readonly string[]): "stored" | { missing: string[] } {
    const content = CONTENT_OF[space];
    const missing = this.missing(content, blobs);
    if (missing.length > 0) return { missing };
    const target = this.path(space, key);
    mkdirSync(join(target, ".."), { recursive: true });
    const temp = join(this.dir, "tmp", `${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(temp, bytes, { flush: true });
    renameSync(temp, target);
    const insert = this.#db.prepare("INSERT OR IGNORE INTO refs (ac, blob) VALUES (?, ?)");
    const id = `${space}/${key}`;
    this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM refs WHERE ac = ?").run(id);
      for (const blob of blobs) insert.run(id, `${content}/${blob}`);
    })();
    // Storing an entry uses its blobs, as reading it does: a blob the client did not send again (it was
    // there) must not be the least recently used and take the new entry with it at the next eviction.
    const now = this.#now();
    for (const blob of blobs) this.#accessed.set(`${content}/${blob}`, now);
    this.#record(space, key, bytes.length, now);
    return "stored";
  }

  /** An entry, only if every blob it references is still present (else it is removed). */
  getAction(space: EntrySpace, key: string): Buffer | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path(space, key));
    } catch {
      return undefined;
    }
    // An entry the index does not know (the process died between its file and its rows) has no refs to
    // check, and would never be evicted: it is dropped, a miss, and the client's next upload stores it whole.
    const indexed = this.#db.prepare("SELECT 1 FROM entries WHERE kind = ? AND name = ?").get(space, key) !== undefined;
    const blobs = (this.#db.prepare("SELECT blob FROM refs WHERE ac = ?").raw().all(`${space}/${key}`) as [string][]).map(([b]) => b);
    if (!indexed || blobs.some((id) => !this.has(...splitId<ContentSpace>(id)))) {
      this.#remove(space, key);
      return undefined;
    }
    const now = this.#now();
    this.#accessed.set(`${space}/${key}`, now);
    for (const blob of blobs) this.#accessed.set(blob, now); // Using an entry uses its blobs.
    return bytes;
  }

  #record(kind: Space, name: string, size: number, now = this.#now()): void {
    const old = this.#db.prepare("SELECT size FROM entries WHERE kind = ? AND name = ?").get(kind, name) as { size: number } | undefined;
    this.#db.prepare("INSERT OR REPLACE INTO entries (kind, name, size, last_access) VALUES (?, ?, ?, ?)").run(kind, name, size, now);
    this.#total += size - (old?.size ?? 0);
    this.#evict();
  }

  #remove(kind: Space, name: string): void {
    const row = this.#db.prepare("SELECT size FROM entries WHERE kind = ? AND name = ?").get(kind, name) as { size: number } | undefined;
    this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM entries WHERE kind = ? AND name = ?").run(kind, name);
      if (!isContentSpace(kind)) this.#db.prepare("DELETE FROM refs WHERE ac = ?").run(`${kind}/${name}`);
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
      const next = oldest.get() as { kind: Space; name: string } | undefined;
      if (next === undefined) break;
      if (isContentSpace(next.kind)) {
        for (const { ac } of referencing.all(`${next.kind}/${next.name}`) as { ac: string }[]) {
          this.#remove(...splitId<EntrySpace>(ac));
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
        touch.run(time, ...splitId(id));
      }
    })();
    this.#accessed.clear();
  }

  /** Rebuilds the index from the files on disk (a new or reset index). */
  #rescan(): void {
    const insert = this.#db.prepare("INSERT OR REPLACE INTO entries (kind, name, size, last_access) VALUES (?, ?, ?, ?)");
    this.#db.transaction(() => {
      for (const kind of [...CONTENT_SPACES, ...ENTRY_SPACES]) {
        const base = join(this.dir, kind);
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
    for (const [kind, name] of this.#db.prepare("SELECT kind, name FROM entries WHERE kind LIKE 'ac/%'").raw().all() as [EntrySpace, string][]) {
      let blobs: string[] | undefined;
      try {
        blobs = referencedBlobs(readFileSync(this.path(kind, name)));
      } catch {
        blobs = undefined;
      }
      if (blobs === undefined) this.#remove(kind, name);
      else for (const blob of blobs) insertRef.run(`${kind}/${name}`, `${CONTENT_OF[kind]}/${blob}`);
    }
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}

/** `<space>/<name>` (how refs and recorded accesses name a file) → [space, name]. */
function splitId<S extends Space>(id: string): [S, string] {
  const slash = id.lastIndexOf("/");
  return [id.slice(0, slash) as S, id.slice(slash + 1)];
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
