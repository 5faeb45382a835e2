/**
 * Action entries as stored on a remote, and the checks that make an entry
 * from an untrusted remote safe to restore. A matching digest proves only that
 * bytes are what the entry names, not that the entry is honest: so every path
 * must be relative, normalised, inside the workspace and under the task's
 * declared outputs; only files, directories and symlinks are allowed; and the
 * manifest must hash to the outputs digest the entry claims (which is what
 * dependents' keys will see).
 *
 * Format 2 (JSON):
 *
 *   {"format": 2, "blobs": [<every digest below>], "task": "...",
 *    "layer": {"digest", "size"} | null, "logBlob": {"digest", "size"} | null,
 *    "manifest": [<entries>] | {"digest", "size"},
 *    "outputsDigest", "log", "exitCode", "durationMs"}
 *
 * Each blob is named with its size, so a download stops at the size the entry
 * declares. The manifest is inline while small; a larger one (a task with
 * thousands of outputs) is a blob of its own, verified like any other, so an
 * entry stays far below the server's 1 MiB limit on entries whatever the
 * number of outputs. Format 1 (no sizes, the manifest always inline) and any
 * other unknown format read as a plain miss: the task runs and uploads a
 * format 2 entry in its place.
 *
 * Format 3 is format 2 with `"stack": [{"digest", "size"}, ...]`, a
 * transform's layers below its own, bottom first (see diff-layer.ts in
 * @rbuild/store), each also in `blobs`: a remote entry lists all of its blobs.
 * Only an entry with a stack is written as format 3, so an rbuild that reads
 * format 2 alone takes it for a miss, never for a full layer.
 */
import { digestBytes, globMatcher, isDigest, type Digest } from "@rbuild/hash";
import { blobTooLarge } from "@rbuild/remote";
import { isSafeRelativePath, manifestDigest, type ActionEntry, type LogLine, type ManifestEntry } from "@rbuild/store";

const FORMAT = 2;
const STACK_FORMAT = 3;

/**
 * A manifest whose JSON is larger goes to a blob of its own (about 450 outputs):
 * entries stay small, so a batch lookup answer holds many of them.
 */
export const MANIFEST_INLINE_MAX = 64 * 1024;

/**
 * The largest manifest blob read, since it is parsed in memory: about 900,000
 * outputs. An entry that names a larger one is refused.
 */
export const MAX_MANIFEST_BYTES = 128 * 1024 * 1024;

/** A blob an entry names, with the size it declares. */
export interface BlobRef {
  readonly digest: Digest;
  readonly size: number;
}

/** What an entry says, before its manifest is checked (it may still be in a blob). */
export interface RemoteEntry {
  readonly layer: BlobRef | null;
  /** A transform's layers below `layer`, bottom first; empty for a full layer. */
  readonly stack: readonly BlobRef[];
  readonly logBlob: BlobRef | null;
  /** The manifest as sent, unchecked, or the blob that holds it. */
  readonly manifest: { readonly inline: unknown } | { readonly blob: BlobRef };
  readonly outputsDigest: Digest;
  readonly log: readonly LogLine[] | null;
  readonly exitCode: number | null;
  readonly durationMs: number;
}

/** An entry to upload, and the manifest blob it names when its manifest is large. */
export interface EncodedEntry {
  readonly entry: Buffer;
  readonly manifestBlob: { readonly digest: Digest; readonly bytes: Buffer } | null;
}

/** Encodes `entry`; `sizeOf` gives the size of each blob it references (undefined: not stored, nothing to upload). */
export function encodeRemoteEntry(entry: ActionEntry, sizeOf: (digest: Digest) => number | undefined): EncodedEntry | undefined {
  const ref = (digest: Digest | null): BlobRef | null | undefined => {
    if (digest === null) return null;
    const size = sizeOf(digest);
    return size === undefined ? undefined : { digest, size };
  };
  const layer = ref(entry.layer);
  const logBlob = ref(entry.logBlob);
  if (layer === undefined || logBlob === undefined) return undefined;
  const stack: BlobRef[] = [];
  for (const digest of entry.stack ?? []) {
    const below = ref(digest);
    if (below === undefined || below === null) return undefined;
    stack.push(below);
  }
  const manifestJson = Buffer.from(JSON.stringify(entry.manifest));
  const manifestBlob = manifestJson.length > MANIFEST_INLINE_MAX ? { digest: digestBytes(manifestJson), bytes: manifestJson } : null;
  const blobs = [...stack.map((s) => s.digest), layer?.digest, logBlob?.digest, manifestBlob?.digest].filter((d): d is Digest => d !== undefined);
  const bytes = Buffer.from(
    JSON.stringify({
      format: stack.length === 0 ? FORMAT : STACK_FORMAT,
      blobs,
      task: entry.task,
      layer,
      ...(stack.length === 0 ? {} : { stack }),
      logBlob,
      manifest: manifestBlob === null ? entry.manifest : { digest: manifestBlob.digest, size: manifestJson.length },
      outputsDigest: entry.outputsDigest,
      log: entry.log,
      exitCode: entry.exitCode,
      durationMs: entry.durationMs,
    }),
  );
  return { entry: bytes, manifestBlob };
}

function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function blobRef(value: unknown): BlobRef | null | "malformed" {
  if (value === null || value === undefined) return null;
  const ref = value as Record<string, unknown>;
  return typeof ref === "object" && isDigest(ref.digest) && isInt(ref.size) ? { digest: ref.digest, size: ref.size } : "malformed";
}

/**
 * The entry, if it is well formed; undefined when it is in a format this rbuild
 * does not read (a miss, not a fault); else what is wrong with it.
 */
export function readRemoteEntry(bytes: Buffer): RemoteEntry | undefined | string {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  } catch {
    return "the entry is not JSON";
  }
  if (typeof value !== "object" || value === null) return "the entry is not a JSON object";
  if (value.format !== FORMAT && value.format !== STACK_FORMAT) return undefined;
  const layer = blobRef(value.layer);
  if (layer === "malformed") return "a malformed layer reference";
  const stack: BlobRef[] = [];
  if (value.format === STACK_FORMAT) {
    if (!Array.isArray(value.stack) || value.stack.length === 0 || layer === null) return "a malformed layer stack";
    for (const item of value.stack as unknown[]) {
      const below = blobRef(item);
      if (below === null || below === "malformed") return "a malformed layer stack";
      const tooLarge = blobTooLarge(below.size);
      if (tooLarge !== undefined) return `a layer of its stack is ${tooLarge}`;
      stack.push(below);
    }
  }
  const logBlob = blobRef(value.logBlob);
  if (logBlob === "malformed") return "a malformed log reference";
  // Sizes are the remote's word: one too large is refused before a byte of it is downloaded.
  for (const [name, ref] of [["layer", layer], ["log", logBlob]] as const) {
    const tooLarge = ref === null ? undefined : blobTooLarge(ref.size);
    if (tooLarge !== undefined) return `its ${name} is ${tooLarge}`;
  }
  let manifest: RemoteEntry["manifest"];
  if (Array.isArray(value.manifest)) manifest = { inline: value.manifest };
  else {
    const blob = blobRef(value.manifest);
    if (blob === null || blob === "malformed") return "the entry has no manifest";
    if (blob.size > MAX_MANIFEST_BYTES) return `its manifest is ${blob.size} bytes, more than the ${MAX_MANIFEST_BYTES} this rbuild reads`;
    manifest = { blob };
  }
  if (!isDigest(value.outputsDigest)) return "a malformed outputs digest";
  const log = value.log ?? null;
  if (log !== null && !(Array.isArray(log) && log.every((l) => Array.isArray(l) && (l[0] === "o" || l[0] === "e") && typeof l[1] === "string"))) {
    return "a malformed log";
  }
  const exitCode = value.exitCode ?? null;
  if (exitCode !== null && typeof exitCode !== "number") return "a malformed exit code";
  return {
    layer,
    stack,
    logBlob,
    manifest,
    outputsDigest: value.outputsDigest,
    log: log as LogLine[] | null,
    exitCode: exitCode as number | null,
    durationMs: isInt(value.durationMs) ? value.durationMs : 0,
  };
}

/** The bytes of a manifest blob as the manifest they hold, unchecked; undefined if they are not a JSON array. */
export function parseManifestBlob(bytes: Buffer): unknown[] | undefined {
  try {
    const value = JSON.parse(bytes.toString("utf8")) as unknown;
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function checkManifestEntry(value: unknown, allowed: (path: string) => boolean): ManifestEntry | string {
  const e = value as Record<string, unknown>;
  if (typeof e !== "object" || e === null || typeof e.path !== "string") return "an output without a path";
  const path = e.path;
  if (!isSafeRelativePath(path)) return `${JSON.stringify(path)} is not a path inside the workspace`;
  if (!allowed(path)) return `${JSON.stringify(path)} is not among the task's declared outputs`;
  switch (e.type) {
    case "file":
      if (!isInt(e.mode) || e.mode > 0o7777 || !isInt(e.size) || !isDigest(e.digest)) return `${path}: a malformed file entry`;
      return { path, type: "file", mode: e.mode, size: e.size, digest: e.digest };
    case "dir":
      if (!isInt(e.mode) || e.mode > 0o7777) return `${path}: a malformed directory entry`;
      return { path, type: "dir", mode: e.mode };
    case "symlink":
      if (typeof e.target !== "string" || e.target === "" || e.target.includes("\0")) return `${path}: a malformed symlink entry`;
      return { path, type: "symlink", target: e.target };
    default:
      return `${path}: type ${JSON.stringify(e.type)} is not a file, directory or symlink`;
  }
}

/** The action entry, if `manifest` is safe for a task with these output globs and is the one the entry claims; else what is wrong. */
export function checkRemoteEntry(remote: RemoteEntry, manifest: unknown, key: string, task: string, outputs: readonly string[]): ActionEntry | string {
  if (!Array.isArray(manifest)) return "the entry has no manifest";
  const allowed = globMatcher(outputs);
  const checked: ManifestEntry[] = [];
  for (const item of manifest) {
    const entry = checkManifestEntry(item, allowed);
    if (typeof entry === "string") return entry;
    checked.push(entry);
  }
  if (remote.outputsDigest !== manifestDigest(checked)) return "its outputs digest does not match its manifest";
  if (checked.length > 0 && remote.layer === null) return "it lists outputs but has no layer";
  return {
    key,
    task,
    layer: remote.layer?.digest ?? null,
    ...(remote.stack.length === 0 ? {} : { stack: remote.stack.map((s) => s.digest) }),
    manifest: checked,
    outputsDigest: remote.outputsDigest,
    log: remote.log,
    logBlob: remote.logBlob?.digest ?? null,
    exitCode: remote.exitCode,
    durationMs: remote.durationMs,
  };
}
