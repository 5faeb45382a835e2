/**
 * The remote half of the cache step. After a local miss, the remote is asked
 * for the key; a hit is checked (remote-entry.ts), its blobs downloaded and
 * verified into the local store, and then restored like any local hit. After a
 * pure task runs, its result is uploaded beside the build: only the blobs the
 * remote lacks, then the entry. All of it is best effort.
 */
import type { Digest } from "@rbuild/hash";
import type { GraphTask } from "@rbuild/planner";
import { BestEffort, type RemoteCache } from "@rbuild/remote";
import type { ActionEntry, Store } from "@rbuild/store";
import { decodeRemoteEntry, encodeRemoteEntry } from "./remote-entry.js";

export interface RemoteOptions {
  readonly cache: RemoteCache;
  /** Read hits, never upload (for untrusted jobs). */
  readonly readOnly?: boolean;
  /** How long the end of a build waits for uploads still in flight. Default 60 s. */
  readonly uploadWaitMs?: number;
}

const UPLOAD_CONCURRENCY = 4;

export class RemoteStep {
  readonly #store: Store;
  readonly #remote: RemoteCache;
  readonly #readOnly: boolean;
  readonly #uploadWaitMs: number;
  readonly #best: BestEffort;
  readonly #warn: (message: string) => void;
  readonly #waiting: (() => Promise<void>)[] = [];
  readonly #running = new Set<Promise<void>>();

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
    const bytes = await this.#best.attempt("reading an entry", () => this.#remote.getEntry(key), undefined);
    if (bytes === undefined) return false;
    const entry = decodeRemoteEntry(bytes, key, task.name, task.outputs);
    if (typeof entry === "string") {
      this.#warn(`remote cache: refused the entry for task "${task.name}": ${entry}`);
      return false;
    }
    const blobs: { digest: Digest; size: number }[] = [];
    for (const digest of [entry.layer, entry.logBlob]) {
      if (digest === null) continue;
      if (!this.#store.cas.has(digest)) {
        const temp = this.#store.cas.tempPath();
        const got = await this.#best.attempt("downloading a blob", () => this.#remote.getBlob(digest, temp), "missing" as const);
        if (got === "corrupt") this.#warn(`remote cache: a blob of task "${task.name}" did not match its digest; treated as a miss`);
        if (got !== "ok") return false;
        this.#store.cas.commit(temp, digest);
      }
      blobs.push({ digest, size: this.#store.cas.size(digest) ?? 0 });
    }
    this.#store.save(entry, blobs);
    return true;
  }

  /** Uploads a pure task's result beside the build. */
  upload(entry: ActionEntry): void {
    if (this.#readOnly || !this.#best.enabled) return;
    this.#waiting.push(() => this.#best.attempt("uploading", () => this.#send(entry), undefined));
    this.#pump();
  }

  async #send(entry: ActionEntry): Promise<void> {
    const blobs = [entry.layer, entry.logBlob].filter((d): d is Digest => d !== null);
    for (const digest of await this.#remote.missing(blobs)) await this.#remote.putBlob(digest, this.#store.cas.path(digest as Digest));
    await this.#remote.putEntry(entry.key, encodeRemoteEntry(entry));
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
