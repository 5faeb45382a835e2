/**
 * The client of the cache server's leases (see cache-server/README.md,
 * "Leases"): a shared pool's holders take a lease from the server before they
 * start, heartbeat while they run and release it at the end; the server drops
 * a holder whose heartbeats stopped for its TTL.
 *
 *   POST .../rbuild/v1/leases/<pool>:acquire   {size, holder, ttlMs} -> 200 granted | 409 {holders}
 *   POST .../rbuild/v1/leases/<pool>:heartbeat {holder, ttlMs}       -> 200 held | 404 not held
 *   POST .../rbuild/v1/leases/<pool>:release   {holder}              -> 200 {released}
 *   GET  .../rbuild/v1/leases                                        -> 200 {pools: [{pool, size, holders}]}
 *
 * Errors are thrown as RemoteError. Each exchange has its own deadline; only
 * `acquire` takes the build's interrupt: a lease is released after an
 * interrupt too.
 */
import type { Dispatcher } from "undici";
import { readCapped } from "./capped-body.js";
import { RemoteError } from "./remote-cache.js";
import { withDeadline } from "./request-deadline.js";

/** Who takes a lease: `id` names it (unique per task of a build), the rest is shown to those who wait. */
export interface LeaseHolder {
  readonly id: string;
  readonly host: string;
  readonly build: string;
  readonly task: string;
}

/** A holder as the server reports it. */
export interface HeldLease extends LeaseHolder {
  /** How long it has held the lease, by the server's clock. */
  readonly ageMs: number;
  /** When the lease ends unless it is renewed. */
  readonly expiresInMs: number;
}

export type AcquireAnswer = { readonly granted: true } | { readonly granted: false; readonly holders: readonly HeldLease[] };

export interface PoolLeases {
  readonly pool: string;
  /** The largest size its holders asked with. */
  readonly size: number;
  readonly holders: readonly HeldLease[];
}

/** What the executor needs of a lease server (a narrow seam: tests may pass their own). */
export interface Leases {
  acquire(pool: string, size: number, holder: LeaseHolder, ttlMs: number, signal?: AbortSignal): Promise<AcquireAnswer>;
  /** False when the holder no longer holds the lease (it expired, or was released by hand). */
  heartbeat(pool: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Whether it was held. */
  release(pool: string, holder: string): Promise<boolean>;
  list(): Promise<readonly PoolLeases[]>;
  close(): Promise<void>;
}

export interface HttpLeasesOptions {
  /** Base URL; the protocol lives under `<base>/rbuild/v1/`. */
  readonly url: string;
  readonly token?: string;
  /** Deadline of each exchange (default 10 s). */
  readonly timeoutMs?: number;
}

const MAX_ANSWER = 4 * 1024 * 1024;

function holderOf(value: unknown): HeldLease | undefined {
  const h = value as Record<string, unknown> | null;
  if (typeof h !== "object" || h === null) return undefined;
  const { id, host, build, task, ageMs, expiresInMs } = h;
  if (typeof id !== "string" || typeof host !== "string" || typeof build !== "string" || typeof task !== "string") return undefined;
  if (typeof ageMs !== "number" || typeof expiresInMs !== "number") return undefined;
  return { id, host, build, task, ageMs, expiresInMs };
}

function holdersOf(value: unknown): HeldLease[] {
  return Array.isArray(value) ? value.map(holderOf).filter((h): h is HeldLease => h !== undefined) : [];
}

export class HttpLeases implements Leases {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #timeout: number;
  #client: Promise<{ request: typeof import("./undici-client.js").request; dispatcher: Dispatcher }> | undefined;

  constructor(options: HttpLeasesOptions) {
    this.#base = `${options.url.replace(/\/+$/, "")}/rbuild/v1/leases`;
    this.#headers = { "content-type": "application/json", ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) };
    this.#timeout = options.timeoutMs ?? 10_000;
  }

  #connect(): Promise<{ request: typeof import("./undici-client.js").request; dispatcher: Dispatcher }> {
    this.#client ??= import("./undici-client.js").then(({ Agent, request }) => ({
      request,
      dispatcher: new Agent({ connectTimeout: this.#timeout, headersTimeout: this.#timeout, bodyTimeout: this.#timeout, connections: 4 }),
    }));
    return this.#client;
  }

  /** One exchange: the status and the answer's JSON (an empty object when it is not JSON). */
  async #call(what: string, method: "GET" | "POST", path: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
    const { request, dispatcher } = await this.#connect();
    return withDeadline(what, this.#timeout, signal, async (deadline) => {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(dispatcher, `${this.#base}${path}`, {
          method,
          headers: this.#headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: deadline,
        });
      } catch (error) {
        throw new RemoteError("unreachable", `${what}: ${(error as Error).message || String(error)}`);
      }
      const text = (await readCapped(response, MAX_ANSWER, what)).toString("utf8");
      let json: Record<string, unknown> = {};
      try {
        const value = JSON.parse(text) as unknown;
        if (typeof value === "object" && value !== null) json = value as Record<string, unknown>;
      } catch {
        // Not JSON: an error answer's text, used in the message below.
      }
      const status = response.statusCode;
      if (status === 401) throw new RemoteError("unauthorized", `${what}: 401 unauthorized (pass a token that may write with --token or RBUILD_TOKEN)`);
      if (status === 403) throw new RemoteError("forbidden", `${what}: 403 forbidden (leases need a token that may write; this one may only read)`);
      if (status === 404 && !("held" in json)) {
        throw new RemoteError("status", `${what}: HTTP 404: the server at ${this.#base.replace(/\/rbuild\/v1\/leases$/, "")} has no leases (an rbuild-cache-server older than shared pools?)`);
      }
      return { status, json, text };
    });
  }

  #unexpected(what: string, status: number, text: string): never {
    throw new RemoteError("status", `${what}: HTTP ${status}${text.trim() === "" ? "" : ` (${text.trim().slice(0, 200)})`}`);
  }

  async acquire(pool: string, size: number, holder: LeaseHolder, ttlMs: number, signal?: AbortSignal): Promise<AcquireAnswer> {
    const what = `taking a lease on pool "${pool}"`;
    const { status, json, text } = await this.#call(what, "POST", `/${encodeURIComponent(pool)}:acquire`, { size, holder, ttlMs }, signal);
    if (status === 200) return { granted: true };
    if (status === 409) return { granted: false, holders: holdersOf(json.holders) };
    return this.#unexpected(what, status, text);
  }

  async heartbeat(pool: string, holder: string, ttlMs: number): Promise<boolean> {
    const what = `renewing the lease on pool "${pool}"`;
    const { status, text } = await this.#call(what, "POST", `/${encodeURIComponent(pool)}:heartbeat`, { holder, ttlMs });
    if (status === 200 || status === 404) return status === 200;
    return this.#unexpected(what, status, text);
  }

  async release(pool: string, holder: string): Promise<boolean> {
    const what = `releasing the lease on pool "${pool}"`;
    const { status, json, text } = await this.#call(what, "POST", `/${encodeURIComponent(pool)}:release`, { holder });
    if (status === 200) return json.released === true;
    return this.#unexpected(what, status, text);
  }

  async list(): Promise<readonly PoolLeases[]> {
    const what = "listing leases";
    const { status, json, text } = await this.#call(what, "GET", "", undefined);
    if (status !== 200) return this.#unexpected(what, status, text);
    const pools = Array.isArray(json.pools) ? (json.pools as Record<string, unknown>[]) : [];
    return pools
      .filter((p) => typeof p?.pool === "string")
      .map((p) => ({ pool: p.pool as string, size: typeof p.size === "number" ? p.size : 0, holders: holdersOf(p.holders) }));
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) await (await client).dispatcher.close();
  }
}
