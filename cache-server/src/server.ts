/**
 * rbuild's remote cache over HTTP/1.1. The protocol (see ../README.md) lives
 * under `/rbuild/v1/` below any prefix of the base URL:
 *
 *   GET|HEAD|PUT  .../rbuild/v1/cas/blake3/<64 hex>   a blob, named by its BLAKE3 digest
 *   GET|HEAD|PUT  .../rbuild/v1/ac/<64 hex>           an action entry (JSON with "blobs"), by rbuild key
 *   POST          .../rbuild/v1/cas/blake3:missing    {"digests": [...]} -> {"missing": [...]}
 *   POST          .../rbuild/v1/ac:get                {"keys": [...]} -> the entries found, small blobs inline
 *   POST|GET      .../rbuild/v1/leases/...            shared pools' leases (see leases.ts; write tokens only)
 *   GET           /healthz, /metrics
 *
 * and turbo's remote cache API under /v8/artifacts (see turbo.ts), and the
 * Bazel HTTP cache, .../ac/<sha256> and .../cas/<sha256> (see bazel.ts), and
 * Nx's self-hosted cache API under /v1/cache/ (see nx.ts). All
 * share one store: key spaces in key-spaces.ts.
 *
 * 200 stored or found, 404 miss, 400 bad request (wrong digest, malformed
 * entry), 401 no or bad token, 403 read-only token writing, 413 too large,
 * 507 disk full. PUT is idempotent, and a PUT that returned 200 is readable.
 */
import { createReadStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { send } from "./answer.js";
import { checkingIntervalFor, defaultMaxConnections, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from "./connection-limits.js";
import { ConnectionGate, gateLimits } from "./connection-gate.js";
import { answerBatchGet, MAX_GET_KEYS, MAX_INLINE_BLOB } from "./batch-get.js";
import { BAZEL_ROUTE, handleBazel } from "./bazel.js";
import { DiskStore, referencedBlobs } from "./disk-store.js";
import type { ContentSpace } from "./key-spaces.js";
import { handleLeases, LeaseTable, LEASES_ROUTE } from "./leases.js";
import { Metrics, type Protocol } from "./metrics.js";
import { handleNx, NX_ROUTE } from "./nx.js";
import type { ProtocolContext } from "./protocol-context.js";
import type { Scope } from "./tokens.js";
import { handleTurbo, TURBO_ROUTE } from "./turbo.js";

export interface ServerOptions {
  readonly host?: string;
  readonly port?: number;
  readonly dir: string;
  readonly maxSize: number;
  readonly maxBlobSize?: number;
  /** Token → scope; without it the server is open. */
  readonly tokens?: ReadonlyMap<string, Scope>;
  /** Time a client has to send a request's headers (default 10 s); then it gets 408 and is cut. */
  readonly headersTimeoutMs?: number;
  /** Time a client has to send a whole request, body included (default 30 min). */
  readonly requestTimeoutMs?: number;
  /** Connections held at once (default: from the descriptor limit); see connection-gate.ts for who gives way. */
  readonly maxConnections?: number;
  /** Connections one peer (remote address) may hold at once (default: 1/8 of maxConnections). */
  readonly maxConnectionsPerPeer?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly store: DiskStore;
  /** Stops accepting connections, finishes requests in flight, closes the index. */
  stop(): Promise<void>;
}

const ROUTE = /^(?:\/.*)?\/rbuild\/v1\/(?:(cas)\/blake3\/([0-9a-f]{64})|(ac)\/([0-9a-f]{64})|cas\/blake3:(missing)|ac:(get))$/;
const MAX_ENTRY = 1024 * 1024;
/** Bodies up to this size are read whole and sent in one write; larger ones stream. */
const SMALL_BODY = 64 * 1024;
const MAX_MISSING_QUERY = 10_000;
/** Idle time allowed on a connection (sending a whole request has its own deadline, see connection-limits.ts). */
const IDLE_TIMEOUT_MS = 120_000;
/** A blob may take at most this fraction (1/N) of --max-size: one blob must not be the whole store. */
export const MAX_SIZE_SHARE = 4;
/** How long a graceful stop waits for requests in flight. */
const SHUTDOWN_GRACE_MS = 10_000;

/** The protocol a route belongs to (Bazel's routes are named bazel-ac and bazel-cas). */
function protocolOf(route: string): Protocol {
  if (route === "turbo" || route === "nx") return route;
  if (route.startsWith("bazel-")) return "bazel";
  return route === "healthz" || route === "metrics" || route === "other" ? "server" : "rbuild";
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A JSON query `{"<field>": [64-hex names...], ...}` of at most `max` names; else
 * the status and message to answer with (too many names is 413 and says so).
 */
async function readQuery(
  req: IncomingMessage,
  field: string,
  max: number,
  shape: string,
): Promise<{ names: string[]; body: Record<string, unknown> } | { status: number; message: string }> {
  const tooMany = { status: 413, message: `too many names: at most ${max} per request; split the query\n` };
  const bytes = await readBody(req, 70 * max + 1024);
  if (bytes === undefined) return tooMany;
  const malformed = { status: 400, message: `expected ${shape} with at most ${max} 64-hex names\n` };
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  } catch {
    return malformed;
  }
  const names = body?.[field];
  if (!Array.isArray(names) || !names.every((d) => typeof d === "string" && /^[0-9a-f]{64}$/.test(d))) return malformed;
  if (names.length > max) return tooMany;
  return { names: names as string[], body };
}

function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const [scheme, value] = header.split(" ", 2);
  if (scheme?.toLowerCase() === "bearer") return value;
  if (scheme?.toLowerCase() === "basic" && value !== undefined) {
    // Basic auth: the password is the token (clients that only speak Basic, like Bazel's).
    const decoded = Buffer.from(value, "base64").toString("utf8");
    return decoded.slice(decoded.indexOf(":") + 1);
  }
  return undefined;
}

export async function startCacheServer(options: ServerOptions): Promise<RunningServer> {
  const store = new DiskStore({ dir: options.dir, maxSize: options.maxSize });
  const leases = new LeaseTable(join(options.dir, "index.sqlite"));
  const metrics = new Metrics();
  // --max-size is there to keep a store, not one blob: a blob just under it would evict every other
  // entry. One larger than a fraction of it is refused up front (413), like one over --max-blob-size,
  // before anything is evicted.
  const storeShare = Math.floor(options.maxSize / MAX_SIZE_SHARE);
  const maxBlobSize = Math.min(options.maxBlobSize ?? Number.MAX_SAFE_INTEGER, storeShare);
  const blobTooLarge =
    maxBlobSize < (options.maxBlobSize ?? Number.MAX_SAFE_INTEGER)
      ? `too large: this server keeps blobs of at most ${maxBlobSize} bytes, 1/${MAX_SIZE_SHARE} of its --max-size (${options.maxSize}); raise --max-size to store larger ones\n`
      : `too large: at most ${maxBlobSize} bytes (the server's --max-blob-size)\n`;
  const flushTimer = setInterval(() => store.flush(), 1000);
  flushTimer.unref();

  /** Undefined when allowed; else the status to answer with. */
  const denied = (req: IncomingMessage, need: Scope): number | undefined => {
    if (options.tokens === undefined) return undefined;
    const token = tokenOf(req);
    const scope = token === undefined ? undefined : options.tokens.get(token);
    if (scope === undefined) return 401;
    if (need === "write" && scope !== "write") return 403;
    return undefined;
  };

  const serveFile = (
    req: IncomingMessage,
    res: ServerResponse,
    space: ContentSpace | "ac/rbuild",
    name: string,
    [protocol, kind]: readonly [Protocol, string],
    headers: Record<string, string> = {},
  ): number => {
    const size = store.open(space, name);
    if (size === undefined) {
      metrics.miss(protocol, kind);
      send(res, 404, "not found\n");
      return 404;
    }
    metrics.hit(protocol, kind);
    res.writeHead(200, { ...headers, "content-type": space === "ac/rbuild" ? "application/json" : "application/octet-stream", "content-length": size });
    if (req.method === "HEAD") {
      res.end();
      return 200;
    }
    metrics.bytesOut += size;
    if (size <= SMALL_BODY) {
      // Most blobs are small: one read beats opening a stream (fewer trips through the event loop).
      let bytes: Buffer;
      try {
        bytes = readFileSync(store.path(space, name));
      } catch {
        res.destroy(); // Evicted between stat and read: the client sees a broken response and retries or misses.
        return 200;
      }
      res.end(bytes);
      return 200;
    }
    const stream = createReadStream(store.path(space, name));
    stream.on("error", () => res.destroy());
    stream.pipe(res);
    return 200;
  };

  const protocols: ProtocolContext = {
    store,
    metrics,
    maxBlobSize,
    blobTooLarge,
    denied,
    serveBlob: serveFile,
    readBody,
  };

  /** Answers a request; returns its route and status for the metrics. */
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<[string, number]> => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/healthz") {
      send(res, 200, "ok\n");
      return ["healthz", 200];
    }
    if (path === "/metrics") {
      const no = denied(req, "read");
      if (no !== undefined) return ["metrics", (send(res, no, "unauthorized\n"), no)];
      send(res, 200, metrics.render(store), "text/plain; version=0.0.4; charset=utf-8");
      return ["metrics", 200];
    }
    const turboMatch = TURBO_ROUTE.exec(path);
    if (turboMatch !== null) return ["turbo", await handleTurbo(protocols, req, res, turboMatch[1])];
    const nxMatch = NX_ROUTE.exec(path);
    if (nxMatch !== null) return ["nx", await handleNx(protocols, req, res, nxMatch[1]!)];
    const leaseMatch = LEASES_ROUTE.exec(path);
    if (leaseMatch !== null) return ["leases", await handleLeases({ denied, readBody }, leases, req, res, leaseMatch)];
    const match = ROUTE.exec(path);
    // After rbuild's routes: .../rbuild/v1/ac/<key> is rbuild's, not a Bazel instance named rbuild/v1.
    const bazelMatch = match === null ? BAZEL_ROUTE.exec(path) : null;
    if (bazelMatch !== null) return handleBazel(protocols, req, res, bazelMatch);
    if (match === null) {
      send(
        res,
        404,
        "not found: rbuild's cache serves /rbuild/v1/cas/blake3/<digest>, /rbuild/v1/ac/<key>, turbo's /v8/artifacts, Nx's /v1/cache/<hash>, Bazel's /ac/<sha256> and /cas/<sha256>, /healthz and /metrics\n",
      );
      return ["other", 404];
    }
    const [, casKind, casName, acKind, acName, missing, batchGet] = match;
    const method = req.method ?? "GET";

    if (missing !== undefined || batchGet !== undefined) {
      const route = missing !== undefined ? "missing" : "ac-get";
      if (method !== "POST") return [route, (send(res, 405, "use POST\n"), 405)];
      const no = denied(req, "read");
      if (no !== undefined) return [route, (send(res, no, "unauthorized\n"), no)];
      const query =
        missing !== undefined
          ? await readQuery(req, "digests", MAX_MISSING_QUERY, '{"digests": [...]}')
          : await readQuery(req, "keys", MAX_GET_KEYS, '{"keys": [...], "inlineMax": BYTES}');
      if ("status" in query) return [route, (send(res, query.status, query.message), query.status)];
      if (missing !== undefined) {
        send(res, 200, JSON.stringify({ missing: store.missing("cas/blake3", query.names) }), "application/json");
        return [route, 200];
      }
      const inlineMax = Math.min(MAX_INLINE_BLOB, Number.isSafeInteger(query.body.inlineMax) ? (query.body.inlineMax as number) : 0);
      return [route, await answerBatchGet(res, store, metrics, query.names, inlineMax)];
    }

    const kind = casKind !== undefined ? "cas" : "ac";
    const name = (casName ?? acName)!;
    void acKind;
    if (method === "GET" || method === "HEAD") {
      const no = denied(req, "read");
      if (no !== undefined) return [kind, (send(res, no, "unauthorized\n"), no)];
      if (kind === "ac" && store.has("ac/rbuild", name) && store.getAction("ac/rbuild", name) === undefined) {
        metrics.miss("rbuild", "ac");
        send(res, 404, "not found\n");
        return [kind, 404];
      }
      return [kind, serveFile(req, res, kind === "cas" ? "cas/blake3" : "ac/rbuild", name, ["rbuild", kind])];
    }
    if (method !== "PUT") return [kind, (send(res, 405, "use GET, HEAD or PUT\n"), 405)];
    const no = denied(req, "write");
    if (no !== undefined) {
      return [kind, (send(res, no, no === 403 ? "this token may only read\n" : "unauthorized\n"), no)];
    }
    const declared = Number(req.headers["content-length"] ?? Number.NaN);
    if (declared > (kind === "cas" ? maxBlobSize : MAX_ENTRY)) {
      send(res, 413, kind === "cas" ? blobTooLarge : `too large: at most ${MAX_ENTRY} bytes\n`);
      return [kind, 413];
    }
    if (kind === "ac") {
      const body = await readBody(req, MAX_ENTRY);
      if (body === undefined) return [kind, (send(res, 413, `too large: at most ${MAX_ENTRY} bytes\n`), 413)];
      const blobs = referencedBlobs(body);
      if (blobs === undefined) return [kind, (send(res, 400, 'an action entry is a JSON object whose "blobs" lists the BLAKE3 digests it references\n'), 400)];
      const stored = store.putAction("ac/rbuild", name, body, blobs);
      if (stored !== "stored") {
        send(res, 400, `upload these blobs first: ${stored.missing.join(", ")}\n`);
        return [kind, 400];
      }
      metrics.bytesIn += body.length;
      send(res, 200, "stored\n");
      return [kind, 200];
    }
    const result = await store.putBlob("cas/blake3", name, req, maxBlobSize);
    switch (result) {
      case "stored":
        metrics.bytesIn += store.open("cas/blake3", name) ?? 0;
        send(res, 200, "stored\n");
        return [kind, 200];
      case "mismatch":
        send(res, 400, "the body's BLAKE3 digest is not the one in the URL; nothing was stored\n");
        return [kind, 400];
      case "too-large":
        send(res, 413, blobTooLarge);
        return [kind, 413];
      case "disk-full":
        send(res, 507, "the cache's disk is full\n");
        return [kind, 507];
      case "aborted":
        res.destroy();
        return [kind, 499];
    }
  };

  const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const server: Server = createServer({ connectionsCheckingInterval: checkingIntervalFor(headersTimeout) }, (req, res) => {
    handle(req, res).then(
      ([route, status]) => metrics.request(protocolOf(route), req.method ?? "GET", route, status),
      (error: unknown) => {
        process.emitWarning(`rbuild-cache-server: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        if (!res.headersSent) send(res, 500, "internal error\n");
        else res.destroy();
        metrics.request("server", req.method ?? "GET", "error", 500);
      },
    );
  });
  // See connection-limits.ts: slow clients are cut, and a flood of them cannot take every descriptor.
  server.headersTimeout = headersTimeout;
  server.requestTimeout = Math.max(headersTimeout, options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
  // The gate, not server.maxConnections, keeps the cap: Node's cap refuses the newest connection, which
  // lets connections that never finish their headers lock everyone out (connection-gate.ts).
  const gate = new ConnectionGate(gateLimits(options.maxConnections ?? defaultMaxConnections(), options.maxConnectionsPerPeer));
  server.on("connection", (socket: Socket) => gate.admit(socket));
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    gate.requestStarted(req.socket);
    res.once("close", () => gate.requestEnded(req.socket));
  });
  server.keepAliveTimeout = 65_000;
  server.setTimeout(IDLE_TIMEOUT_MS, (socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    store,
    async stop() {
      clearInterval(flushTimer);
      // Requests in flight may finish. A connection becomes idle only when its response is done, which
      // close() does not wait to see, so idle ones are closed again until none is left; a client that
      // holds on past the grace period is cut off.
      const sweep = setInterval(() => server.closeIdleConnections(), 25);
      const cutOff = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      clearInterval(sweep);
      clearTimeout(cutOff);
      leases.close();
      store.close();
    },
  };
}
