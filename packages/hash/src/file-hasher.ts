/**
 * Digests of workspace files, remembered by their stat so that an unchanged
 * file is not read again (the stat cache). A remembered digest is used only
 * when size, mtime, ctime and inode all match.
 *
 * The racily-clean rule: a file modified in the same filesystem clock tick in
 * which it was hashed could change again without changing its stat. So an
 * entry is remembered only if the file's mtime and ctime are older than
 * `trustBefore`, a time read from the filesystem's own clock when the build
 * started (the mtime of a file written then). Files written during the build
 * are hashed again next time, once.
 */
import { statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { digestFile, type Digest } from "./digest.js";

export interface FileState {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly digest: Digest;
}

/** Where remembered digests live: the store's index, or a Map in tests. */
export interface StatCacheBackend {
  get(path: string): FileState | undefined;
  set(path: string, state: FileState): void;
}

/**
 * Whether a digest taken of a file with this stat may be remembered: its last
 * change is older than `trustBefore` (the racily-clean rule above).
 */
export function trustedStat(stat: { readonly mtimeMs: number; readonly ctimeMs: number }, trustBefore: number): boolean {
  return stat.mtimeMs < trustBefore && stat.ctimeMs < trustBefore;
}

export class FileHasher {
  readonly #root: string;
  readonly #backend: StatCacheBackend;
  readonly #trustBefore: number;
  #hashed = 0;

  constructor(root: string, backend: StatCacheBackend, trustBefore: number) {
    this.#root = root;
    this.#backend = backend;
    this.#trustBefore = trustBefore;
  }

  /** How many files were read and hashed (the rest came from the stat cache). */
  get filesHashed(): number {
    return this.#hashed;
  }

  /** The digest of the file at `path` (relative to the root), or undefined if it is missing or not a file. */
  digest(path: string): Digest | undefined {
    const full = join(this.#root, path);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) return undefined;
    return this.digestWithStat(path, stat);
  }

  /** Like `digest`, for a caller that already has the file's stat. */
  digestWithStat(path: string, stat: Stats): Digest {
    const known = this.#backend.get(path);
    if (
      known !== undefined &&
      known.size === stat.size &&
      known.mtimeMs === stat.mtimeMs &&
      known.ctimeMs === stat.ctimeMs &&
      known.ino === stat.ino
    ) {
      return known.digest;
    }
    const digest = digestFile(join(this.#root, path));
    this.#hashed++;
    if (trustedStat(stat, this.#trustBefore)) {
      this.#backend.set(path, { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, digest });
    }
    return digest;
  }
}

/** A stat cache that lives only as long as the process: for tests and one-off tools. */
export class MemoryStatCache implements StatCacheBackend {
  readonly entries = new Map<string, FileState>();
  get(path: string): FileState | undefined {
    return this.entries.get(path);
  }
  set(path: string, state: FileState): void {
    this.entries.set(path, state);
  }
}
