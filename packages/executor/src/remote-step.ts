/**
 * The remote half of the cache step. After a local miss, the remote is asked
 * for the key; a hit is checked (remote-entry.ts), its blobs verified into the
 * local store, and then restored like any local hit. After a pure task runs,
 * its result is uploaded beside the build: only the blobs the remote lacks,
 * then the entry. All of it is best effort.
 *
 * Lookups are batched: the keys of every task that reaches its cache step while
 * a batch is on the wire go out together in the next one, and the answer brings
 * small blobs along. A restore of many small outputs costs one round trip per
 * batch, not two per task.
 */
import { readFileSync, rmSync } from "node:fs";
import { digestBytes, type Digest } from "@rbuild/hash";
import type { GraphTask } from "@rbuild/planner";
import { BestEffort, blobTooLarge, type RemoteCache, type RemoteHit } from "@rbuild/remote";
import { manifestDigest, type ActionEntry, type BlobRow, type ManifestEntry, type Store } from "@rbuild/store";
import { checkRemoteEntry, encodeRemoteEntry, parseManifestBlob, readRemoteEntry, type BlobRef } from "./remote-entry.js";

export interface RemoteOptions {
  readonly cache: RemoteCache;
  /** Read hits, never upload (for untrusted jobs). */
  readonly readOnly?: boolean;
  /** How long the end of a build waits for uploads still in flight. Default 60 s. */
  readonly uploadWaitMs?: number;
}

const UPLOAD_CONCURRENCY = 4;
/** Lookup batches on the wire at once, and keys per batch. */
const LOOKUP_BATCHES = 2;
const LOOKUP_BATCH_KEYS = 500;

export class RemoteStep {
  readonly #store: Store;
  readonly #remote: RemoteCache;
  readonly #readOnly: boolean;
  readonly #uploadWaitMs: number;
  readonly #best: BestEffort;
  readonly #warn: (message: string) => void;
  readonly #waiting: (() => Promise<void>)[] = [];
  readonly #running = new Set<Promise<void>>();
  /** Lookups waiting for the next batch: key -> whoever asked. */
  readonly #queued = new Map<string, ((hit: RemoteHit | undefined) => void)[]>();
  #batchesOnWire = 0;
  #flushPending = false;

  constructor(store: Store, options: RemoteOptions, warn: (message: string) => void) {
    this.#store = store;
    this.#remote = options.cache;
    this.#readOnly = options.readOnly ?? false;
    this.#uploadWaitMs = options.uploadWaitMs ?? 60_000;
    this.#warn = warn;
    this.#best = new BestEffort({ warn });
  }

  /** Brings the remote's result for `key` into the local store. True when it is there now. */
  async fetch(task: GraphTask, key: string): Promise<boolean> {
    const hit = await this.#lookUp(key);
    if (hit === undefined) return false;
    const refuse = (why: string): false => (this.#warn(`remote cache: refused the entry for task "${task.name}": ${why}`), false);
    const corrupt = (): false => (this.#warn(`remote cache: a blob of task "${task.name}" did not match its digest; treated as a miss`), false);
    const remote = readRemoteEntry(hit.entry);
    if (remote === undefined) return false; // A format this rbuild does not read: a miss; the task's run replaces it.
    if (typeof remote === "string") return refuse(remote);
    let manifest: unknown;
    if ("inline" in remote.manifest) manifest = remote.manifest.inline;
    else {
      const bytes = await this.#downloadBytes(remote.manifest.blob, hit.inline.get(remote.manifest.blob.digest));
      if (bytes === "corrupt") return corrupt();
      if (bytes === "missing") return false;
      manifest = parseManifestBlob(bytes);
    }
    const entry = checkRemoteEntry(remote, manifest, key, task.name, task.outputs);
    if (typeof entry === "string") return refuse(entry);
    const blobs: BlobRow[] = [];
    // Every layer of a transform's stack, not only its own: a restore applies them all.
    for (const ref of [...remote.stack, remote.layer, remote.logBlob]) {
      if (ref === null) continue;
      const size = this.#store.blobSize(ref.digest);
      const got = size !== undefined ? { digest: ref.digest, size } : await this.#download(ref, hit.inline.get(ref.digest));
      if (got === "corrupt") return corrupt();
      if (got === "missing") return false;
      blobs.push(got);
    }
    this.#store.save(withoutSpecialModes(entry), blobs);
    return true;
  }

  /**
   * Brings a blob into the local store, verified: from the bytes sent inline
   * (kept in the index when small, see Store.blobOf), else downloaded to a file,
   * reading no more than the size its entry declares.
   */
  async #download(ref: BlobRef, inline: Buffer | undefined): Promise<BlobRow | "missing" | "corrupt"> {
    if (inline !== undefined) return inline.length === ref.size && digestBytes(inline) === ref.digest ? this.#store.blobOf(ref.digest, inline) : "corrupt";
    const temp = this.#store.cas.tempPath();
    const got = await this.#best.attempt("downloading a blob", () => this.#remote.getBlob(ref.digest, temp, ref.size), "missing" as const);
    if (got !== "ok") return got;
    this.#store.cas.commit(temp, ref.digest);
    return { digest: ref.digest, size: ref.size };
  }

  /** A blob's bytes, verified, without keeping it (a manifest blob: the index keeps the manifest itself). */
  async #downloadBytes(ref: BlobRef, inline: Buffer | undefined): Promise<Buffer | "missing" | "corrupt"> {
    if (inline !== undefined) return inline.length === ref.size && digestBytes(inline) === ref.digest ? inline : "corrupt";
    const temp = this.#store.cas.tempPath();
    try {
      const got = await this.#best.attempt("downloading a blob", () => this.#remote.getBlob(ref.digest, temp, ref.size), "missing" as const);
      return got === "ok" ? readFileSync(temp) : got;
    } finally {
      rmSync(temp, { force: true });
    }
  }

  /** The remote's entry for `key`, from the next batch lookup. */
  #lookUp(key: string): Promise<RemoteHit | undefined> {
    return new Promise((resolve) => {
      const waiting = this.#queued.get(key);
      if (waiting === undefined) this.#queued.set(key, [resolve]);
      else waiting.push(resolve);
      this.#scheduleLookups();
    });
  }

  /** Sends what is queued once the current turn of the event loop has queued all it will. */
  #scheduleLookups(): void {
    if (this.#flushPending || this.#batchesOnWire >= LOOKUP_BATCHES || this.#queued.size === 0) return;
    this.#flushPending = true;
    setImmediate(() => {
      this.#flushPending = false;
      this.#sendLookups();
    });
  }

  #sendLookups(): void {
    while (this.#batchesOnWire < LOOKUP_BATCHES && this.#queued.size > 0) {
      const batch = new Map<string, ((hit: RemoteHit | undefined) => void)[]>();
      for (const [key, waiting] of this.#queued) {
        if (batch.size === LOOKUP_BATCH_KEYS) break;
        batch.set(key, waiting);
      }
      for (const key of batch.keys()) this.#queued.delete(key);
      this.#batchesOnWire++;
      void this.#best
        .attempt("reading entries", () => this.#remote.getEntries([...batch.keys()]), new Map<string, RemoteHit>())
        .then((found) => {
          for (const [key, waiting] of batch) for (const resolve of waiting) resolve(found.get(key));
        })
        .finally(() => {
          this.#batchesOnWire--;
          this.#scheduleLookups();
        });
    }
  }

  /** Uploads a pure task's result beside the build. */
  upload(entry: ActionEntry): void {
    if (this.#readOnly || !this.#best.enabled) return;
    this.#waiting.push(() => this.#best.attempt("uploading", () => this.#send(entry), undefined));
    this.#pump();
  }

  async #send(entry: ActionEntry): Promise<void> {
    const encoded = encodeRemoteEntry(entry, (digest) => this.#store.blobSize(digest));
    if (encoded === undefined) return; // A blob is gone from the local store (gc): nothing whole to share.
    const { manifestBlob } = encoded;
    const blobs = [...(entry.stack ?? []), entry.layer, entry.logBlob, manifestBlob?.digest ?? null].filter((d): d is Digest => d !== null);
    // A blob no rbuild would download is not worth the upload.
    for (const digest of blobs) {
      const tooLarge = blobTooLarge(digest === manifestBlob?.digest ? manifestBlob.bytes.length : (this.#store.blobSize(digest) ?? 0));
      if (tooLarge !== undefined) return this.#warn(`remote cache: task "${entry.task}" is not shared: a blob of its result is ${tooLarge}`);
    }
    // The remote checks each blob against its digest as it stores it.
    for (const digest of await this.#remote.missing(blobs)) {
      await this.#remote.putBlob(digest, digest === manifestBlob?.digest ? manifestBlob.bytes : this.#store.blobSource(digest as Digest));
    }
    await this.#remote.putEntry(entry.key, encoded.entry);
  }

  #pump(): void {
    while (this.#running.size < UPLOAD_CONCURRENCY && this.#waiting.length > 0) {
      const job = this.#waiting.shift()!;
      const running: Promise<void> = job().finally(() => {
        this.#running.delete(running);
        this.#pump();
      });
      this.#running.add(running);
    }
  }

  /** Waits for uploads in flight, at most uploadWaitMs; what is left is abandoned with a warning. */
  async drain(): Promise<void> {
    const deadline = Date.now() + this.#uploadWaitMs;
    while (this.#running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#warn(`remote cache: gave up waiting for ${this.#running.size + this.#waiting.length} uploads after ${this.#uploadWaitMs / 1000} s`);
        this.#waiting.length = 0;
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.race(this.#running), new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
  }
}

/**
 * The entry as this machine keeps it: no setuid, setgid or sticky bit on
 * anything it restores, since an entry from a remote is another machine's
 * word (a setuid file restored by root would be root's). The outputs digest is
 * that of what is restored, so dependents' keys see the modes they will find.
 * Stripped here, before the local store, so that every later restore of it
 * is stripped too.
 */
function withoutSpecialModes(entry: ActionEntry): ActionEntry {
  if (!entry.manifest.some((e) => e.type !== "symlink" && e.mode > 0o777)) return entry;
  const manifest = entry.manifest.map((e): ManifestEntry => (e.type === "symlink" ? e : { ...e, mode: e.mode & 0o777 }));
  return { ...entry, manifest, outputsDigest: manifestDigest(manifest) };
}
