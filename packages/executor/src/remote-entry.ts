/**
 * Action entries as stored on a remote, and the checks that make an entry
 * from an untrusted remote safe to restore. A matching digest proves only that
 * bytes are what the entry names, not that the entry is honest: so every path
 * must be relative, normalised, inside the workspace and under the task's
 * declared outputs; only files, directories and symlinks are allowed; and the
 * manifest must hash to the outputs digest the entry claims (which is what
 * dependents' keys will see).
 */
import { globMatcher, isDigest, type Digest } from "@rbuild/hash";
import { isSafeRelativePath, manifestDigest, type ActionEntry, type LogLine, type ManifestEntry } from "@rbuild/store";

const FORMAT = 1;

export function encodeRemoteEntry(entry: ActionEntry): Buffer {
  const blobs = [entry.layer, entry.logBlob].filter((d): d is Digest => d !== null);
  return Buffer.from(
    JSON.stringify({
      blobs,
      format: FORMAT,
      task: entry.task,
      layer: entry.layer,
      manifest: entry.manifest,
      outputsDigest: entry.outputsDigest,
      log: entry.log,
      logBlob: entry.logBlob,
      exitCode: entry.exitCode,
      durationMs: entry.durationMs,
    }),
  );
}

function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
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

/** The entry, if it is well formed and safe for a task with these output globs; else what is wrong. */
export function decodeRemoteEntry(bytes: Buffer, key: string, task: string, outputs: readonly string[]): ActionEntry | string {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  } catch {
    return "the entry is not JSON";
  }
  if (typeof value !== "object" || value === null || value.format !== FORMAT) return "the entry is not in a format this rbuild reads";
  if (!Array.isArray(value.manifest)) return "the entry has no manifest";
  const allowed = globMatcher(outputs);
  const manifest: ManifestEntry[] = [];
  for (const item of value.manifest) {
    const checked = checkManifestEntry(item, allowed);
    if (typeof checked === "string") return checked;
    manifest.push(checked);
  }
  if (value.outputsDigest !== manifestDigest(manifest)) return "its outputs digest does not match its manifest";
  const layer = value.layer ?? null;
  if (layer !== null && !isDigest(layer)) return "a malformed layer digest";
  if (manifest.length > 0 && layer === null) return "it lists outputs but has no layer";
  const logBlob = value.logBlob ?? null;
  if (logBlob !== null && !isDigest(logBlob)) return "a malformed log digest";
  const log = value.log ?? null;
  if (log !== null && !(Array.isArray(log) && log.every((l) => Array.isArray(l) && (l[0] === "o" || l[0] === "e") && typeof l[1] === "string"))) {
    return "a malformed log";
  }
  const exitCode = value.exitCode ?? null;
  if (exitCode !== null && typeof exitCode !== "number") return "a malformed exit code";
  return {
    key,
    task,
    layer: layer as Digest | null,
    manifest,
    outputsDigest: value.outputsDigest as Digest,
    log: log as LogLine[] | null,
    logBlob: logBlob as Digest | null,
    exitCode: exitCode as number | null,
    durationMs: isInt(value.durationMs) ? value.durationMs : 0,
  };
}
