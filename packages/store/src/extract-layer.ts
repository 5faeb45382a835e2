/**
 * Restoring a layer (layer.ts) into the workspace: all or nothing.
 *
 * First every wanted entry is checked, writing nothing: its path is inside the
 * workspace; the archive holds it with the manifest's type, size and link
 * target; a file's bytes match its digest; a link's target stays inside the
 * workspace, by its text and by the links on its way, the layer's and the
 * workspace's (see linkStaysInside and linkLeadsInside); no parent is a link
 * or a file, in the layer or in the workspace. Only then is anything written, so a refused layer
 * leaves the workspace as it was. (The one exception: a file too big to hold
 * is read again while it is written, and checked again; only a blob changing
 * under a running restore can fail there.)
 *
 * Writing:
 * - Each directory is looked at and made once. Directories are kept open to
 *   their owner (u+rwx) while the layer is written and get their modes at the
 *   end, deepest first, as tar does: a directory of mode 000 or 0555 can hold
 *   what the layer puts in it, and one left so by an earlier restore can take
 *   a new file.
 * - A file or link that replaces something is written beside it and renamed
 *   into place, so a reader never sees half of it. A new one is written in
 *   place: a crash leaves it short, and the next build restores it again (its
 *   digest does not match). Never through a link: a new file is opened with
 *   O_EXCL.
 * - Per file, only the calls it needs: open (O_EXCL), write, close, and chmod
 *   only when the umask took bits. Many files are written on the main thread,
 *   a few through libuv's threads (see SYNC_FILES).
 *
 * What a restore of many files costs is mostly the kernel's: on ext4 without a
 * journal, allocating an inode soon after many were deleted (a restore right
 * after `rbuild clean`) skips every recently deleted one, up to milliseconds
 * per file; a build after the same clean pays it too.
 */
import { chmod, chmodSync, close, closeSync, lstatSync, mkdirSync, open, openSync, readlinkSync, readSync, realpathSync, rename, renameSync, symlinkSync, write, writeSync, type Stats } from "node:fs";
import { join, posix } from "node:path";
import { promisify } from "node:util";
import { DigestBuilder, digestBytes, type Digest } from "@rbuild/hash";
import type { Pax } from "tar/pax";
import { tar, type ManifestEntry } from "./layer.js";
import { openUp, removeTree } from "./remove-tree.js";
import { scratch } from "./scratch.js";

const BLOCK = 512;

export type ExtractResult = { ok: true } | { ok: false; problem: string };

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

/** A path a layer may write: relative, normalised, no `..`, not the root itself. */
export function isSafeRelativePath(path: string): boolean {
  return path !== "" && !path.startsWith("/") && !path.includes("\0") && posix.normalize(path) === path && path !== "." && !path.split("/").includes("..");
}

/**
 * Whether a link at `path` (a safe relative path) pointing at `target` stays
 * inside the workspace: the target is relative, and its `..` never climb above
 * the root from the link's own directory. A `..` after a name is refused as
 * well: the name may itself be a link, and `..` then climbs from wherever that
 * points (`a -> ..` and `b -> a/..` each look inside, and `b` is outside). The
 * link's directory is a real one (no restored entry is written through a
 * link), so leading `..` climb exactly as far as they say.
 */
export function linkStaysInside(path: string, target: string): boolean {
  if (target.startsWith("/")) return false;
  let depth = path.split("/").length - 1;
  let named = false;
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") named = true;
    else if (named || depth-- === 0) return false;
  }
  return true;
}

/** Symbolic links followed in one resolution before giving up, as the kernel's ELOOP does. */
const MAX_HOPS = 40;

/**
 * Where a link at `path` pointing at `target` leads once the layer is
 * written: inside the workspace, outside it, or "unknown" when a directory on
 * the way cannot be searched. linkStaysInside reads the target alone; this
 * also follows what is on the way: a link the workspace already has (a user's
 * own `ws-link -> /etc` makes `../ws-link/passwd` leave it) and the layer's
 * own links, dirs and files, which are what will be there (`l -> real` and
 * `x -> l/evil/passwd` go through the workspace's `real/evil`). Each name is
 * looked up in the layer first, then in the workspace; a name that is nowhere
 * is followed by name, as nothing is there to lead elsewhere. `realRoot` is
 * the workspace's real path; `at` starts at the link's directory, which is a
 * real directory below it (no restored entry is written through a link).
 */
function linkLeadsInside(realRoot: string, layer: ReadonlyMap<string, ManifestEntry>, look: (full: string) => Stats | undefined | "unknown", path: string, target: string): boolean | "unknown" {
  const inside = (full: string) => full === realRoot || full.startsWith(`${realRoot}/`);
  let at = posix.dirname(join(realRoot, path));
  const pending = target.split("/");
  if (target.startsWith("/")) at = "/";
  for (let hops = 0, part = pending.shift(); part !== undefined; part = pending.shift()) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      // `at` is always a real path (every link on the way was followed), so its parent is the one `..` reaches.
      at = posix.dirname(at);
      continue;
    }
    const next = at === "/" ? `/${part}` : `${at}/${part}`;
    const listed = inside(next) && next !== realRoot ? layer.get(next.slice(realRoot.length + 1)) : undefined;
    let linkTarget: string | undefined;
    if (listed !== undefined) {
      if (listed.type === "symlink") linkTarget = listed.target;
    } else {
      const stat = look(next);
      if (stat === "unknown") return "unknown";
      if (stat?.isSymbolicLink()) linkTarget = readlinkSync(next);
    }
    if (linkTarget === undefined) {
      at = next;
      continue;
    }
    if (++hops > MAX_HOPS) return false;
    pending.unshift(...linkTarget.split("/"));
    if (linkTarget.startsWith("/")) at = "/";
  }
  return inside(at);
}

/**
 * Files up to this size are read whole and checked against their digest
 * before anything is written, and written from memory by libuv's threads.
 * Larger files are checked by streaming them, and copied in chunks later,
 * checked again as they go.
 */
const WHOLE_FILE_LIMIT = 1024 * 1024;
/** At most this much of a layer file's contents is held between checking and writing; the rest is read again. */
const HOLD_LIMIT = 64 * 1024 * 1024;
/**
 * A layer of at least this many files is written on the main thread; one of
 * fewer through libuv's threads, so that the restores of several small tasks
 * overlap. For many files the four trips between threads per file cost more
 * than they save: 20,000 small files on a tmpfs took 3.2-3.7 s to restore
 * that way, against 2.0-2.4 s here and 2.5-3.0 s to build them (bench/many-files.mjs).
 */
const SYNC_FILES = 64;

const openAsync = promisify(open);
const writeAsync = promisify(write);
const closeAsync = promisify(close);
const renameAsync = promisify(rename);
const chmodAsync = promisify(chmod);

type FileEntry = Extract<ManifestEntry, { type: "file" }>;

/** A checked file: its bytes when they are held, else its place in the archive to copy from. */
interface CheckedFile {
  readonly wanted: FileEntry;
  readonly entry: TarEntry;
  readonly bytes: Buffer | undefined;
}

interface Checked {
  readonly dirs: Extract<ManifestEntry, { type: "dir" }>[];
  readonly links: Extract<ManifestEntry, { type: "symlink" }>[];
  readonly files: CheckedFile[];
}

/** The stat of `full`, undefined when nothing is there, "unknown" when a directory above cannot be searched. */
function lstatOrUnknown(full: string): Stats | undefined | "unknown" {
  try {
    return lstatSync(full, { throwIfNoEntry: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES") return "unknown";
    if (code === "ENOTDIR") return undefined;
    throw error;
  }
}

function streamVerified(source: Source, entry: TarEntry, expected: Digest): boolean {
  const chunk = scratch();
  const hasher = new DigestBuilder();
  for (let done = 0; done < entry.size; ) {
    const n = source.read(chunk, 0, Math.min(chunk.length, entry.size - done), entry.offset + done);
    if (n === 0) return false;
    hasher.update(chunk.subarray(0, n));
    done += n;
  }
  return hasher.digest() === expected;
}

/** Checks every wanted entry against the archive and the workspace, writing nothing (see the top of this file). */
function check(source: Source, root: string, wanted: readonly ManifestEntry[], entries: ReadonlyMap<string, TarEntry>): Checked | string {
  const checked: Checked = { dirs: [], links: [], files: [] };
  const types = new Map(wanted.map((e) => [e.path, e.type]));
  // Parent directory -> what is wrong with it ("" for nothing), so each is looked at once.
  const parents = new Map<string, string>();
  const seen = new Set<string>();
  let held = 0;
  for (const want of wanted) {
    if (!isSafeRelativePath(want.path)) return `${JSON.stringify(want.path)} is not a path inside the workspace`;
    if (seen.has(want.path)) return `${want.path} is listed twice`;
    seen.add(want.path);
    for (let at = want.path.indexOf("/"); at !== -1; at = want.path.indexOf("/", at + 1)) {
      const parent = want.path.slice(0, at);
      let problem = parents.get(parent);
      if (problem === undefined) {
        const inLayer = types.get(parent);
        const stat = inLayer === undefined ? lstatOrUnknown(join(root, parent)) : undefined;
        if (inLayer !== undefined) problem = inLayer === "dir" ? "" : `its parent ${join(root, parent)} is not a directory in the layer`;
        // A directory that cannot be searched hides what is below it: writing opens it up and looks again.
        else if (stat === undefined || stat === "unknown" || stat.isDirectory()) problem = "";
        else problem = `its parent ${join(root, parent)} is ${stat.isSymbolicLink() ? "a symbolic link" : "not a directory"}`;
        parents.set(parent, problem);
      }
      if (problem !== "") return `${want.path}: ${problem}`;
    }
    const entry = entries.get(want.path);
    const expectedType = want.type === "file" ? "File" : want.type === "dir" ? "Directory" : "SymbolicLink";
    if (entry === undefined || entry.type !== expectedType) return `${want.path} is missing from the layer or has the wrong type`;
    const mismatch = `${want.path}: its bytes in the layer do not match the manifest`;
    switch (want.type) {
      case "dir":
        checked.dirs.push(want);
        break;
      case "symlink":
        if (entry.linkpath !== want.target) return `${want.path}: the layer's link target differs from the manifest`;
        if (!linkStaysInside(want.path, want.target)) return `${want.path}: its link target ${JSON.stringify(want.target)} is outside the workspace`;
        checked.links.push(want);
        break;
      case "file": {
        if (entry.size !== want.size) return mismatch;
        if (source.slice !== undefined || (entry.size <= WHOLE_FILE_LIMIT && held + entry.size <= HOLD_LIMIT)) {
          const bytes = source.slice?.(entry.offset, entry.size) ?? Buffer.allocUnsafe(entry.size);
          if (source.slice === undefined && source.read(bytes, 0, entry.size, entry.offset) !== entry.size) return mismatch;
          if (bytes.length !== entry.size || digestBytes(bytes) !== want.digest) return mismatch;
          if (source.slice === undefined) held += entry.size;
          checked.files.push({ wanted: want, entry, bytes: entry.size <= WHOLE_FILE_LIMIT ? bytes : undefined });
        } else {
          if (!streamVerified(source, entry, want.digest)) return mismatch;
          checked.files.push({ wanted: want, entry, bytes: undefined });
        }
        break;
      }
    }
  }
  // Links are followed once every entry is known: one may lead through another, or through a directory listed after it.
  if (checked.links.length > 0) {
    const realRoot = realpathSync(root);
    const listed = new Map(wanted.map((e) => [e.path, e]));
    const looked = new Map<string, Stats | undefined | "unknown">();
    const look = (full: string) => {
      if (!looked.has(full)) looked.set(full, lstatOrUnknown(full));
      return looked.get(full);
    };
    for (const link of checked.links) {
      const leads = linkLeadsInside(realRoot, listed, look, link.path, link.target);
      if (leads === "unknown") return `${link.path}: its link target ${JSON.stringify(link.target)} passes through a directory that cannot be searched, so it cannot be checked to stay inside the workspace`;
      if (!leads) return `${link.path}: its link target ${JSON.stringify(link.target)} leads outside the workspace through a link on the way`;
    }
  }
  return checked;
}

function tempBeside(full: string): string {
  const slash = full.lastIndexOf("/");
  return `${full.slice(0, slash)}/.rbuild-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
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
  const out = openSync(target, "wx");
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

/** Writes a checked layer (see the top of this file). Returns a problem only when a big file changed since it was checked. */
/**
 * mkdir, when another process may make the same directory at the same moment
 * (a task running beside the restore writes into the same `out/`): `existing`
 * when a directory is already there, `not-a-directory` when something else is.
 */
export function makeDirectory(path: string): "made" | "existing" | "not-a-directory" {
  try {
    mkdirSync(path);
    return "made";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return lstatSync(path).isDirectory() ? "existing" : "not-a-directory";
  }
}

class Writing {
  /** Directories known to be real directories open to us now. */
  readonly #ready = new Set<string>([""]);
  /** Directories made by this restore: nothing is in them yet. */
  readonly #made = new Set<string>();
  /** Directory -> the mode it gets at the end. */
  readonly #modes = new Map<string, number>();

  constructor(
    private readonly root: string,
    private readonly umask: number,
  ) {}

  /** Makes `dir` (relative) and its parents real directories open to us; false if one is a link or a file after all. */
  ensureDir(dir: string, replace = false): boolean {
    if (this.#ready.has(dir)) return true;
    const slash = dir.lastIndexOf("/");
    if (!this.ensureDir(slash === -1 ? "" : dir.slice(0, slash))) return false;
    const full = join(this.root, dir);
    const stat = this.#made.has(slash === -1 ? "" : dir.slice(0, slash)) ? undefined : lstatSync(full, { throwIfNoEntry: false });
    if (stat !== undefined && !stat.isDirectory()) {
      if (!replace) return false;
      removeTree(full);
    }
    if (stat === undefined || !stat.isDirectory()) {
      // The umask's mode, as mkdir -p would: a directory the layer lists gets its own at the end.
      const made = makeDirectory(full);
      if (made === "made") this.#made.add(dir);
      else if (made === "not-a-directory") return false;
      else this.#adopt(dir, full);
    } else if ((stat.mode & 0o700) !== 0o700) {
      if (!this.#modes.has(dir)) this.#modes.set(dir, stat.mode & 0o7777);
      openUp(full);
    }
    this.#ready.add(dir);
    return true;
  }

  /** A directory made by someone else since we looked: used as one found there. */
  #adopt(dir: string, full: string): void {
    const stat = lstatSync(full);
    if ((stat.mode & 0o700) !== 0o700) {
      if (!this.#modes.has(dir)) this.#modes.set(dir, stat.mode & 0o7777);
      openUp(full);
    }
  }

  dir(path: string, mode: number): boolean {
    if (!this.ensureDir(path, true)) return false;
    this.#modes.set(path, mode);
    return true;
  }

  /** Where a new file or link at `path` goes: the path itself when nothing is there, else a temporary name beside it. */
  placeFor(path: string): string | undefined {
    const slash = path.lastIndexOf("/");
    const parent = slash === -1 ? "" : path.slice(0, slash);
    if (!this.ensureDir(parent)) return undefined;
    const full = join(this.root, path);
    if (this.#made.has(parent)) return full;
    const existing = lstatSync(full, { throwIfNoEntry: false });
    if (existing === undefined) return full;
    // A directory where a file or link belongs goes; the new entry replaces it whole.
    if (existing.isDirectory()) {
      removeTree(full);
      return full;
    }
    return tempBeside(full);
  }

  link(path: string, target: string): boolean {
    const place = this.placeFor(path);
    if (place === undefined) return false;
    symlinkSync(target, place);
    if (place !== join(this.root, path)) renameSync(place, join(this.root, path));
    return true;
  }

  async file(path: string, place: string, file: CheckedFile, source: Source): Promise<boolean> {
    const full = join(this.root, path);
    let done = false;
    try {
      if (file.bytes !== undefined) {
        await writeNewFile(place, file.bytes, file.wanted.mode, this.umask);
      } else {
        if (!copyVerified(source, file.entry, file.wanted.digest, place)) return false;
        chmodSync(place, file.wanted.mode);
      }
      if (place !== full) await renameAsync(place, full);
      done = true;
      return true;
    } finally {
      if (!done) removeTree(place);
    }
  }

  fileSync(path: string, place: string, file: CheckedFile, source: Source): boolean {
    const full = join(this.root, path);
    let done = false;
    try {
      if (file.bytes !== undefined) {
        const fd = openSync(place, "wx", file.wanted.mode);
        try {
          for (let n = 0; n < file.bytes.length; ) n += writeSync(fd, file.bytes, n, file.bytes.length - n);
        } finally {
          closeSync(fd);
        }
        if ((file.wanted.mode & this.umask) !== 0 || file.wanted.mode > 0o777) chmodSync(place, file.wanted.mode);
      } else {
        if (!copyVerified(source, file.entry, file.wanted.digest, place)) return false;
        chmodSync(place, file.wanted.mode);
      }
      if (place !== full) renameSync(place, full);
      done = true;
      return true;
    } finally {
      if (!done) removeTree(place);
    }
  }

  /** Gives directories their modes, deepest first. */
  finish(): void {
    for (const dir of [...this.#modes.keys()].sort().reverse()) chmodSync(join(this.root, dir), this.#modes.get(dir)!);
  }
}

async function writeChecked(source: Source, root: string, checked: Checked, umask: number): Promise<string | undefined> {
  const writing = new Writing(root, umask);
  try {
    for (const dir of [...checked.dirs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      if (!writing.dir(dir.path, dir.mode)) return `${dir.path}: a parent changed to a link or a file during the restore`;
    }
    for (const link of checked.links) {
      if (!writing.link(link.path, link.target)) return `${link.path}: a parent changed to a link or a file during the restore`;
    }
    // See SYNC_FILES.
    const sync = checked.files.length >= SYNC_FILES;
    for (const file of checked.files) {
      const path = file.wanted.path;
      const place = writing.placeFor(path);
      if (place === undefined) return `${path}: a parent changed to a link or a file during the restore`;
      if (!(sync ? writing.fileSync(path, place, file, source) : await writing.file(path, place, file, source))) return `${path}: its bytes in the layer do not match the manifest`;
    }
    return undefined;
  } finally {
    writing.finish();
  }
}

/**
 * Restores the `wanted` entries of a layer, given as its blob file's path or
 * its bytes, under `root`: all of them, or, when one is refused, none (see
 * the top of this file). The caller treats a refused layer as a miss.
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
  try {
    let entries: Map<string, TarEntry>;
    try {
      entries = listEntries(source);
    } catch (error) {
      return { ok: false, problem: `the layer is not a valid archive (${(error as Error).message})` };
    }
    const checked = check(source, root, wanted, entries);
    if (typeof checked === "string") return { ok: false, problem: checked };
    // Read once: restoring many files must not call umask() for each.
    const problem = await writeChecked(source, root, checked, process.umask());
    return problem === undefined ? { ok: true } : { ok: false, problem };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The paths a layer (its blob file's path or its bytes) holds entries for, whiteouts included; a problem when it is not a valid archive. */
export function layerPaths(layer: string | Buffer): Set<string> | string {
  let fd: number | undefined;
  try {
    if (typeof layer === "string") fd = openSync(layer, "r");
    return new Set(listEntries(fd === undefined ? bytesSource(layer as Buffer) : fileSource(fd)).keys());
  } catch (error) {
    return `the layer is not a valid archive (${(error as Error).message})`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
