/**
 * The Bazel HTTP remote cache protocol, so that Bazel, ccache (`layout=bazel`),
 * sccache and other clients of that protocol share this server:
 *
 *   bazel build --remote_cache=http://cache:8080/<instance> --remote_header=Authorization="Bearer <token>"
 *   ccache: remote_storage = http://cache:8080/<instance>|layout=bazel|bearer-token=<token>
 *
 *   GET|HEAD|PUT  [/<instance...>]/cas/<64 hex>   a blob, named by its SHA-256 digest
 *   GET|HEAD|PUT  [/<instance...>]/ac/<64 hex>    an action cache value (opaque bytes), by the client's key
 *
 * PUT answers 200 (also for a value already stored: PUT is idempotent), a miss
 * is 404. A CAS upload is hashed as it streams in and stored only if its SHA-256
 * is its name (else 400, nothing stored). AC values are stored as sent, under
 * any 64-hex key, without parsing them: ccache puts its own results there, and
 * Bazel's `ActionResult` protos are not checked for their CAS blobs (so an AC
 * hit whose blobs were evicted is a CAS miss for the client, like
 * bazel-remote's unvalidated mode).
 *
 * The instance prefix is accepted and ignored (as bazel-remote does), except
 * that an instance whose last segment is `blake3` selects BLAKE3 key spaces
 * (for `--digest_function=blake3`: Bazel's HTTP protocol carries no digest
 * function, so the server can only tell from where the client points it).
 * SHA-256 and BLAKE3 keys never share a space, and neither shares one with
 * rbuild's or turbo's entries (key-spaces.ts).
 *
 * Storage: a CAS blob is content in `cas/<function>`; an AC value is content
 * too (stored once by its digest, whoever else uploaded the same bytes) plus a
 * small entry in `ac/bazel-<function>` naming it. Errors are plain text (Bazel
 * shows an upload's answer body, up to 10 KiB, as the error).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { send } from "./answer.js";
import { CONTENT_OF, functionName, type EntrySpace } from "./key-spaces.js";
import type { ProtocolContext } from "./protocol-context.js";

/** `[/<instance>]/ac|cas/<64 hex>`; groups: instance, ac|cas, hex. */
export const BAZEL_ROUTE = /^(?:\/(.+))?\/(ac|cas)\/([0-9a-f]{64})$/;

/** What an AC entry holds: the content blob with the value. */
interface ValueEntry {
  readonly blobs: readonly [string];
}

/** Answers a request matched by BAZEL_ROUTE; returns the route and status for the metrics. */
export async function handleBazel(ctx: ProtocolContext, req: IncomingMessage, res: ServerResponse, match: RegExpExecArray): Promise<[string, number]> {
  const [, instance, kind, hex] = match as unknown as [string, string | undefined, "ac" | "cas", string];
  const route = `bazel-${kind}`;
  const blake3 = instance !== undefined && instance.split("/").at(-1) === "blake3";
  const space: EntrySpace = blake3 ? "ac/bazel-blake3" : "ac/bazel-sha256";
  const content = CONTENT_OF[space];
  const method = req.method ?? "GET";
  const answer = (status: number, message: string): [string, number] => (send(res, status, message), [route, status]);

  if (method !== "GET" && method !== "HEAD" && method !== "PUT") return answer(405, "use GET, HEAD or PUT\n");
  const no = ctx.denied(req, method === "PUT" ? "write" : "read");
  if (no === 403) return answer(403, "this token may only read\n");
  if (no !== undefined) return answer(no, "unauthorized: send the token as Authorization: Bearer <token>, or as the password of Basic auth\n");

  if (method !== "PUT") {
    if (kind === "cas") return [route, ctx.serveBlob(req, res, content, hex, ["bazel", "cas"])];
    const entry = ctx.store.getAction(space, hex);
    const blob = entry === undefined ? undefined : valueBlob(entry);
    if (blob === undefined) {
      ctx.metrics.miss("bazel", "ac");
      return answer(404, "not found\n");
    }
    return [route, ctx.serveBlob(req, res, content, blob, ["bazel", "ac"])];
  }

  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > ctx.maxBlobSize) return answer(413, ctx.blobTooLarge);
  const stored = kind === "cas" ? await ctx.store.putBlob(content, hex, req, ctx.maxBlobSize) : await ctx.store.putUnnamedBlob(content, req, ctx.maxBlobSize);
  switch (stored) {
    case "mismatch":
      return answer(400, `the body's ${functionName(content)} digest is not the one in the URL; nothing was stored\n`);
    case "too-large":
      return answer(413, ctx.blobTooLarge);
    case "disk-full":
      return answer(507, "the cache's disk is full\n");
    case "aborted":
      res.destroy();
      return [route, 499];
    case "stored":
      ctx.metrics.bytesIn += ctx.store.open(content, hex) ?? 0;
      return answer(200, "stored\n");
  }
  const entry: ValueEntry = { blobs: [stored.digest] };
  // The blob was stored a moment ago; only eviction in between can make it missing.
  if (ctx.store.putAction(space, hex, Buffer.from(JSON.stringify(entry)), entry.blobs) !== "stored") {
    return answer(507, "the value was evicted while it was stored: the cache is too small for what is being written; raise --max-size\n");
  }
  ctx.metrics.bytesIn += stored.size;
  return answer(200, "stored\n");
}

function valueBlob(bytes: Buffer): string | undefined {
  try {
    const blob = (JSON.parse(bytes.toString("utf8")) as Partial<ValueEntry>).blobs?.[0];
    return typeof blob === "string" ? blob : undefined;
  } catch {
    return undefined;
  }
}
