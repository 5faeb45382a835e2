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
 * (`manifestDigest`) is what dependents' keys see. Extraction checks every
 * file against its manifest digest, writes it to a temporary name beside it
 * and renames it into place, so a reader never sees half a file.
 */
import { chmod, chmodSync, close, closeSync, fstatSync, lstatSync, mkdirSync, open, openSync, readlinkSync, readSync, rename, renameSync, rmSync, symlinkSync, write, writeSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { promisify } from "node:util";
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
let tarModules: { Header: typeof Header; Pax: typeof Pax } | undefined;
function tar(): { Header: typeof Header; Pax: typeof Pax } {
  if (tarModules === undefined) {
    const load = createRequire(import.meta.url);
    tarModules = { Header: (load("tar/header") as { Header: typeof Header }).Header, Pax: (load("tar/pax") as { Pax: typeof Pax }).Pax };
  }
  return tarModules;
}

export type ManifestEntry =
  | { readonly path: string; readonly type: "file"; readonly mode: number; readonly size: number; readonly digest: Digest }
  | { readonly path: string; readonly type: "symlink"; readonly target: string }
  | { readonly path: string; readonly type: "dir"; readonly mode: number };

const BLOCK = 512;
const EPOCH = new Date(0);

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
 */
export function writeLayer(root: string, paths: readonly string[], spillTo: () => string, inlineMax = 0): WrittenLayer {
  const out = new Writer(spillTo, inlineMax);
  const entries: ManifestEntry[] = [];
  const skipped: string[] = [];
  const chunk = scratch();
  try {
    for (const path of paths) {
      const full = join(root, path);
      const stat = lstatSync(full, { throwIfNoEntry: false });
      if (stat === undefined) continue; // Deleted while we looked.
      const mode = stat.mode & 0o7777;
      if (stat.isSymbolicLink()) {
        const linkTarget = readlinkSync(full);
        writeHeader(out, { path, type: "SymbolicLink", linkpath: linkTarget, mode: 0o777, size: 0 });
        entries.push({ path, type: "symlink", target: linkTarget });
      } else if (stat.isDirectory()) {
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

interface TarEntry {
  readonly path: string;
  readonly type: string;
  readonly mode: number;
  readonly linkpath: string | undefined;
  readonly size: number;
  /** Offset of the entry's data in the archive. */
  readonly offset: number;
}

/** A layer being read: an open blob file, or the bytes of one kept in the index (which can be sliced without a copy). */
interface Source {
  read(buffer: Buffer, offset: number, length: number, position: number): number;
  slice?(position: number, length: number): Buffer;
}

function fileSource(fd: number): Source {
  return { read: (buffer, offset, length, position) => readSync(fd, buffer, offset, length, position) };
}

function bytesSource(bytes: Buffer): Source {
  return {
    read: (buffer, offset, length, position) => bytes.copy(buffer, offset, Math.min(position, bytes.length), Math.min(position + length, bytes.length)),
    slice: (position, length) => bytes.subarray(Math.min(position, bytes.length), Math.min(position + length, bytes.length)),
  };
}

function readBlock(source: Source, position: number): Buffer | undefined {
  const block = Buffer.alloc(BLOCK);
  return source.read(block, 0, BLOCK, position) === BLOCK ? block : undefined;
}

/** Lists the entries of a layer without reading file contents. Throws on a malformed archive. */
function listEntries(fd: Source): Map<string, TarEntry> {
  const found = new Map<string, TarEntry>();
  let position = 0;
  let extended: Pax | undefined;
  for (;;) {
    const block = readBlock(fd, position);
    if (block === undefined) throw new Error("archive ends early");
    // Decode the ustar fields alone, then let a preceding pax header override them as a whole.
    const header = new (tar().Header)(block, 0);
    if (header.nullBlock) return found;
    if (!header.cksumValid) throw new Error("bad header checksum");
    const size = extended?.size ?? header.size ?? 0;
    position += BLOCK;
    if (header.type === "ExtendedHeader") {
      const body = Buffer.alloc(size);
      if (fd.read(body, 0, size, position) !== size) throw new Error("archive ends early");
      extended = tar().Pax.parse(body.toString("utf8"), undefined, false);
    } else {
      const path = (extended?.path ?? header.path ?? "").replace(/\/$/, "");
      const linkpath = extended?.linkpath ?? header.linkpath;
      extended = undefined;
      found.set(path, { path, type: header.type, mode: header.mode ?? 0, linkpath, size, offset: position });
    }
    position += Math.ceil(size / BLOCK) * BLOCK;
  }
}

export type ExtractResult = { ok: true } | { ok: false; problem: string };

/** A path a layer may write: relative, normalised, no `..`, not the root itself. */
export function isSafeRelativePath(path: string): boolean {
  return path !== "" && !path.startsWith("/") && !path.includes("\0") && posix.normalize(path) === path && path !== "." && !path.split("/").includes("..");
}

/**
 * Makes the parent directories of `path` under `root`, refusing to go through
 * a symbolic link or a non-directory: a layer must never write outside the
 * workspace by way of a link.
 */
function prepareParents(root: string, path: string): string | undefined {
  const parts = path.split("/").slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    const stat = lstatSync(current, { throwIfNoEntry: false });
    if (stat === undefined) mkdirSync(current);
    else if (stat.isSymbolicLink()) return `${path}: its parent ${current} is a symbolic link`;
    else if (!stat.isDirectory()) return `${path}: its parent ${current} is not a directory`;
  }
  return undefined;
}

function tempBeside(full: string): string {
  return join(dirname(full), `.rbuild-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
}

/**
 * Files up to this size are read whole, checked against their digest and only
 * then written, by libuv's threads: creating a file costs this ext4 0.3-0.5 ms
 * of kernel time, and a restore of many small outputs was mostly that, on the
 * main thread. Larger files are copied in chunks, and checked as they go.
 */
const WHOLE_FILE_LIMIT = 1024 * 1024;

const openAsync = promisify(open);
const writeAsync = promisify(write);
const closeAsync = promisify(close);
const chmodAsync = promisify(chmod);
const renameAsync = promisify(rename);

/** The file's bytes, if they are small enough to hold and match `expected`. */
function wholeVerified(source: Source, entry: TarEntry, expected: Digest): Buffer | "mismatch" | "too-big" {
  if (entry.size > WHOLE_FILE_LIMIT) return "too-big";
  let bytes: Buffer;
  if (source.slice !== undefined) {
    bytes = source.slice(entry.offset, entry.size);
  } else {
    bytes = Buffer.allocUnsafe(entry.size);
    if (source.read(bytes, 0, entry.size, entry.offset) !== entry.size) return "mismatch";
  }
  return bytes.length === entry.size && digestBytes(bytes) === expected ? bytes : "mismatch";
}

/** Writes `bytes` as the new file `path` with exactly `mode`, off the main thread. */
async function writeNewFile(path: string, bytes: Buffer, mode: number, umask: number): Promise<void> {
  const fd = await openAsync(path, "wx", mode);
  try {
    for (let done = 0; done < bytes.length; ) done += (await writeAsync(fd, bytes, done, bytes.length - done)).bytesWritten;
  } finally {
    await closeAsync(fd);
  }
  // open() applied the umask, and may not set the setuid, setgid and sticky bits.
  if ((mode & umask) !== 0 || mode > 0o777) await chmodAsync(path, mode);
}

function copyVerified(source: Source, entry: TarEntry, expected: Digest, target: string): boolean {
  const out = openSync(target, "w");
  const chunk = scratch();
  const hasher = new DigestBuilder();
  try {
    let done = 0;
    while (done < entry.size) {
      const n = source.read(chunk, 0, Math.min(chunk.length, entry.size - done), entry.offset + done);
      if (n === 0) return false;
      const piece = chunk.subarray(0, n);
      writeSync(out, piece);
      hasher.update(piece);
      done += n;
    }
  } finally {
    closeSync(out);
  }
  return hasher.digest() === expected;
}

async function restoreEntry(source: Source, root: string, wanted: ManifestEntry, entry: TarEntry | undefined, umask: number): Promise<string | undefined> {
  if (!isSafeRelativePath(wanted.path)) return `${JSON.stringify(wanted.path)} is not a path inside the workspace`;
  const expectedType = wanted.type === "file" ? "File" : wanted.type === "dir" ? "Directory" : "SymbolicLink";
  if (entry === undefined || entry.type !== expectedType) return `${wanted.path} is missing from the layer or has the wrong type`;
  const parents = prepareParents(root, wanted.path);
  if (parents !== undefined) return parents;
  const full = join(root, wanted.path);
  const existing = lstatSync(full, { throwIfNoEntry: false });

  if (wanted.type === "dir") {
    if (existing !== undefined && !existing.isDirectory()) rmSync(full, { force: true });
    if (existing === undefined || !existing.isDirectory()) mkdirSync(full);
    chmodSync(full, wanted.mode);
    return undefined;
  }
  const mismatch = `${wanted.path}: its bytes in the layer do not match the manifest`;
  if (wanted.type === "symlink" && entry.linkpath !== wanted.target) return `${wanted.path}: the layer's link target differs from the manifest`;
  if (wanted.type === "file" && entry.size !== wanted.size) return mismatch;
  const whole = wanted.type === "file" ? wholeVerified(source, entry, wanted.digest) : undefined;
  if (whole === "mismatch") return mismatch;
  // A directory where a file or link belongs goes; the new entry replaces it whole.
  if (existing?.isDirectory() === true) rmSync(full, { recursive: true, force: true });
  const temp = tempBeside(full);
  let renamed = false;
  try {
    if (wanted.type === "symlink") {
      symlinkSync(wanted.target, temp);
      renameSync(temp, full);
    } else if (whole instanceof Buffer) {
      await writeNewFile(temp, whole, wanted.mode, umask);
      await renameAsync(temp, full);
    } else {
      if (!copyVerified(source, entry, wanted.digest, temp)) return mismatch;
      chmodSync(temp, wanted.mode);
      renameSync(temp, full);
    }
    renamed = true;
    return undefined;
  } finally {
    if (!renamed) rmSync(temp, { force: true });
  }
}

/**
 * Restores the `wanted` entries of a layer, given as its blob file's path or
 * its bytes, under `root`. Stops at the first problem: the caller treats the
 * layer as a miss. Writes files through libuv's threads (see WHOLE_FILE_LIMIT),
 * so restores of several tasks overlap.
 */
export async function extractLayer(layer: string | Buffer, root: string, wanted: readonly ManifestEntry[]): Promise<ExtractResult> {
  let fd: number | undefined;
  if (typeof layer === "string") {
    try {
      fd = openSync(layer, "r");
    } catch {
      return { ok: false, problem: "the layer blob is missing" };
    }
  }
  const source = fd === undefined ? bytesSource(layer as Buffer) : fileSource(fd);
  // Read once: restoring many files must not call umask() for each.
  const umask = process.umask();
  try {
    let entries: Map<string, TarEntry>;
    try {
      entries = listEntries(source);
    } catch (error) {
      return { ok: false, problem: `the layer is not a valid archive (${(error as Error).message})` };
    }
    for (const entry of wanted) {
      const problem = await restoreEntry(source, root, entry, entries.get(entry.path), umask);
      if (problem !== undefined) return { ok: false, problem };
    }
    return { ok: true };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
