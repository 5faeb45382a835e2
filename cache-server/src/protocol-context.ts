/** What the server hands each protocol's handler (turbo.ts, bazel.ts): one store, one set of tokens and metrics. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DiskStore } from "./disk-store.js";
import type { ContentSpace } from "./key-spaces.js";
import type { Metrics, Protocol } from "./metrics.js";
import type { Scope } from "./tokens.js";

export interface ProtocolContext {
  readonly store: DiskStore;
  readonly metrics: Metrics;
  /** Larger blobs are refused (413) before anything is stored. */
  readonly maxBlobSize: number;
  /** The message of that 413: it says which limit to raise. */
  readonly blobTooLarge: string;
  /** Undefined when allowed; else the status to answer with (401 no or unknown token, 403 read-only token writing). */
  denied(req: IncomingMessage, need: Scope): number | undefined;
  /** Serves a stored blob, streaming a large one, counting a hit or a miss as `protocol` and `kind`; returns the status. */
  serveBlob(
    req: IncomingMessage,
    res: ServerResponse,
    space: ContentSpace,
    digest: string,
    counted: readonly [Protocol, string],
    headers?: Record<string, string>,
  ): number;
  readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined>;
}
