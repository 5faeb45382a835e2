/**
 * Layers: a task's outputs as one deterministic tar archive.
 *
 * Format: POSIX ustar (pax headers for long or non-ASCII names), entries sorted
 * by path in code-unit order, every mtime 0, uid and gid 0, no user or group
 * names; file modes (permission bits, setuid/setgid/sticky) and symbolic links
 * kept as they are. The same outputs always make the same bytes, so the same
 * layer digest on every machine. Headers are encoded by the `tar` package
 * (a short ASCII entry's by encodeSimpleHeader: the same bytes, faster); the
 * framing is ours because the package's packer rewrites modes in portable mode
 * and its unpacker applies the umask, and restores must be exact.
 *
 * The manifest is the list of entries with each file's own digest; its digest
 * (`manifestDigest`) is what dependents' keys see. Restoring a layer is
 * extract-layer.ts. A transform's layer (diff-layer.ts) holds only what
 * changed, plus OCI whiteouts (`.wh.<name>`, empty, mode 0) for deletions.
 */
import { closeSync, fstatSync, lstatSync, openSync, readlinkSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import type { Header } from "tar/header";
import type { Pax } from "tar/pax";
import { DigestBuilder, digestBytes, type Digest } from "@rbuild/hash";
import { scratch } from "./scratch.js";

/**
 * The tar package's header and pax codecs, loaded on first use: a no-op build
 * neither writes nor reads a layer. Only these two of its modules: the whole
 * package took 25-30 ms to load, these 6-8 ms.
 */
const load = createRequire(import.meta.url);
export function tar(): { Header: typeof Header; Pax: typeof Pax } {
  // require's own cache makes every call after the first a lookup.
  return { Header: (load("tar/header") as { Header: typeof Header }).Header, Pax: (load("tar/pax") as { Pax: typeof Pax }).Pax };
}

export type ManifestEntry =
  | { readonly path: string; readonly type: "file"; readonly mode: number; readonly size: number; readonly digest: Digest }
  | { readonly path: string; readonly type: "symlink"; readonly target: string }
  | { readonly path: string; readonly type: "dir"; readonly mode: number };

const BLOCK = 512;
const EPOCH = new Date(0);

/** The OCI whiteout that deletes `path` in a layer above: `.wh.<name>` in the same directory. */
export function whiteoutPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The digest of a manifest: the identity of a task's outputs. */
export function manifestDigest(entries: readonly ManifestEntry[]): Digest {
  const canonical = entries.map((e) =>
    e.type === "file" ? [e.path, "f", e.mode, e.digest] : e.type === "dir" ? [e.path, "d", e.mode] : [e.path, "l", e.target],
  );
  return digestBytes(JSON.stringify(["rbuild-manifest-1", canonical]));
}

/**
 * Where a layer's bytes go while it is written: memory while it is at most
 * `inlineMax` bytes (a small layer is kept in the index, not as a file), else
 * a file opened the first time it grows past that.
 */
class Writer {
  #fd: number | undefined;
  #file: string | undefined;
  readonly #chunks: Buffer[] = [];
  readonly #hasher = new DigestBuilder();
  size = 0;
  constructor(
    private readonly spillTo: () => string,
    private readonly inlineMax: number,
  ) {}
  write(bytes: Buffer): void {
    this.#hasher.update(bytes);
    if (this.#fd === undefined && this.size + bytes.length <= this.inlineMax) {
      this.#chunks.push(Buffer.from(bytes)); // A copy: callers reuse their buffers.
    } else {
      if (this.#fd === undefined) {
        this.#file = this.spillTo();
        this.#fd = openSync(this.#file, "w");
        for (const chunk of this.#chunks.splice(0)) writeSync(this.#fd, chunk);
      }
      writeSync(this.#fd, bytes);
    }
    this.size += bytes.length;
  }
  pad(): void {
    const rest = this.size % BLOCK;
    if (rest !== 0) this.write(Buffer.alloc(BLOCK - rest));
  }
  digest(): Digest {
    return this.#hasher.digest();
  }
  /** Closes the file, if there is one; the layer is in `file`, or else in `bytes`. */
  close(): { file: string } | { bytes: Buffer } {
    if (this.#fd === undefined) return { bytes: Buffer.concat(this.#chunks) };
    closeSync(this.#fd);
    this.#fd = undefined;
    return { file: this.#file! };
  }
  /** After a failure: closes and removes the file, if there is one. */
  abandon(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    if (this.#file !== undefined) rmSync(this.#file, { force: true });
  }
}

/** An entry of a layer, as its header describes it (owner, group and mtime are always zero). */
type EntryHeader = { readonly path: string; readonly type: "File" | "Directory" | "SymbolicLink"; readonly mode: number; readonly size: number; readonly linkpath?: string };

const TYPE_FLAGS = { File: 0x30, SymbolicLink: 0x32, Directory: 0x35 } as const;
const SHORT_ASCII = /^[\x01-\x7f]{0,99}$/;

/** `value` in octal in a field of `size` bytes, as the tar package writes it: zero-padded and " \0", or all digits and "\0". */
function putOctal(block: Buffer, offset: number, size: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length === size - 1) {
    block.write(digits, offset, "latin1");
    return;
  }
  block.write(digits.padStart(size - 2, "0"), offset, "latin1");
  block[offset + size - 2] = 0x20;
}

/**
 * Encodes the header of an entry whose path (and link target) are ASCII and
 * under 100 bytes and whose size fits 11 octal digits, the same bytes as the
 * tar package's Header would (layer.test.ts compares them); false for any other
 * entry, which the tar package then encodes (pax headers, split names). A
 * cold build writes a header per output: constructing and encoding the
 * package's Header was ~0.1 ms each, 5 % of a cold build's main thread.
 */
export function encodeSimpleHeader(block: Buffer, entry: EntryHeader): boolean {
  const { path, linkpath = "", mode, size } = entry;
  if (!SHORT_ASCII.test(path) || !SHORT_ASCII.test(linkpath) || size > 0o77777777777 || mode > 0o7777777) return false;
  block.write(path, 0, "latin1");
  putOctal(block, 100, 8, mode);
  putOctal(block, 108, 8, 0); // uid
  putOctal(block, 116, 8, 0); // gid
  putOctal(block, 124, 12, size);
  putOctal(block, 136, 12, 0); // mtime
  block[156] = TYPE_FLAGS[entry.type];
  block.write(linkpath, 157, "latin1");
  block.write("ustar\u000000", 257, "latin1");
  putOctal(block, 329, 8, 0); // device major
  putOctal(block, 337, 8, 0); // device minor
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < BLOCK; i++) sum += block[i]!;
  putOctal(block, 148, 8, sum);
  return true;
}

function writeHeader(out: Writer, data: EntryHeader): void {
  const block = Buffer.alloc(BLOCK);
  if (encodeSimpleHeader(block, data)) {
    out.write(block);
    return;
  }
  const header = new (tar().Header)({ uid: 0, gid: 0, uname: "", gname: "", mtime: EPOCH, ...data });
  header.encode(block);
  if (header.needPax) {
    out.write(new (tar().Pax)({ path: data.path, linkpath: data.linkpath, size: data.size }).encode());
  }
  out.write(block);
}

export type WrittenLayer = {
  readonly entries: ManifestEntry[];
  /** Paths that were neither files, directories nor symlinks (sockets, devices): not stored. */
  readonly skipped: string[];
  readonly digest: Digest;
  readonly size: number;
} & ({ readonly file: string } | { readonly bytes: Buffer });

/**
 * Writes the entries at `paths` (relative to `root`, sorted) as a layer: in
 * memory (`bytes`) when it is at most `inlineMax` bytes, else into the file
 * `spillTo()` names (`file`). On an error, no file is left behind.
 * `dirModes` gives the modes to record for directories the caller opened up
 * to read them (relative path -> the mode the task gave it).
 */
export function writeLayer(root: string, paths: readonly string[], spillTo: () => string, inlineMax = 0, dirModes?: ReadonlyMap<string, number>, whiteouts: readonly string[] = []): WrittenLayer {
  const out = new Writer(spillTo, inlineMax);
  const entries: ManifestEntry[] = [];
  const skipped: string[] = [];
  const chunk = scratch();
  // A transform's deletions (see diff-layer.ts): empty files named `.wh.<name>` beside where each was, in path order with the rest.
  const marks = new Set(whiteouts.map(whiteoutPath));
  const all = marks.size === 0 ? paths : [...paths, ...marks].sort(byCodeUnit);
  try {
    for (const path of all) {
      if (marks.has(path)) {
        writeHeader(out, { path, type: "File", mode: 0, size: 0 });
        continue;
      }
      const full = join(root, path);
      const stat = lstatSync(full, { throwIfNoEntry: false });
      if (stat === undefined) continue; // Deleted while we looked.
      const mode = stat.mode & 0o7777;
      if (stat.isSymbolicLink()) {
        const linkTarget = readlinkSync(full);
        writeHeader(out, { path, type: "SymbolicLink", linkpath: linkTarget, mode: 0o777, size: 0 });
        entries.push({ path, type: "symlink", target: linkTarget });
      } else if (stat.isDirectory()) {
        const mode = dirModes?.get(path) ?? stat.mode & 0o7777;
        writeHeader(out, { path: `${path}/`, type: "Directory", mode, size: 0 });
        entries.push({ path, type: "dir", mode });
      } else if (stat.isFile()) {
        const source = openSync(full, "r");
        try {
          // Size from the open file, so header and content agree even if it changed since lstat.
          const size = fstatSync(source).size;
          writeHeader(out, { path, type: "File", mode, size });
          const hasher = new DigestBuilder();
          let left = size;
          while (left > 0) {
            const n = readSync(source, chunk, 0, Math.min(chunk.length, left), null);
            if (n === 0) throw new Error(`${path} shrank while it was being stored`);
            const piece = chunk.subarray(0, n);
            out.write(piece);
            hasher.update(piece);
            left -= n;
          }
          out.pad();
          entries.push({ path, type: "file", mode, size, digest: hasher.digest() });
        } finally {
          closeSync(source);
        }
      } else {
        skipped.push(path);
      }
    }
    out.write(Buffer.alloc(2 * BLOCK));
  } catch (error) {
    out.abandon();
    throw error;
  }
  return { entries, skipped, digest: out.digest(), size: out.size, ...out.close() };
}
