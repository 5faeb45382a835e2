/**
 * Leases on shared pools: at most `size` holders of a pool at once, among
 * every build that uses this server (see ../README.md, "Leases"). Write
 * tokens only: taking a lease is acting on the shared world, not reading a cache.
 *
 *   POST .../rbuild/v1/leases/<pool>:acquire   {"size", "holder": {"id","host","build","task"}, "ttlMs"}
 *                                              -> 200 {"granted": true, "holders"} | 409 {"granted": false, "holders"}
 *   POST .../rbuild/v1/leases/<pool>:heartbeat {"holder": id, "ttlMs"} -> 200 {"held": true} | 404 {"held": false}
 *   POST .../rbuild/v1/leases/<pool>:release   {"holder": id}          -> 200 {"released": true|false}
 *   GET  .../rbuild/v1/leases                  -> 200 {"pools": [{"pool", "size", "holders": [...]}]}
 *
 * A holder in an answer is {"id","host","build","task","ageMs","expiresInMs"}.
 *
 * State is a table in the server's index (index.sqlite), opened on its own
 * connection so it survives a restart:
 *
 *   leases(pool, holder, host, build, task, size, acquired_at, expires_at)
 *
 * Times are the server's clock, so clients' clocks never matter. Every
 * request first drops the holders whose lease has expired (a holder that died
 * without releasing). Requests are handled one at a time (better-sqlite3 is
 * synchronous), so a count and the insert that follows it cannot interleave
 * with another acquire. An acquire by a holder that already holds the lease
 * renews it (a retried request is no second holder).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import Database from "better-sqlite3";
import { send } from "./answer.js";
import type { Scope } from "./tokens.js";

export const LEASES_ROUTE = /^(?:\/.*)?\/rbuild\/v1\/leases(?:\/([^/]+):(acquire|heartbeat|release))?$/;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (
  pool TEXT NOT NULL, holder TEXT NOT NULL, host TEXT NOT NULL, build TEXT NOT NULL, task TEXT NOT NULL,
  size INTEGER NOT NULL, acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (pool, holder)
) WITHOUT ROWID;
`;
const MAX_BODY = 16 * 1024;
/** Longest TTL a client may ask for: a holder that died is forgotten within the hour. */
const MAX_TTL_MS = 60 * 60 * 1000;
const MIN_TTL_MS = 100;
const MAX_FIELD = 500;

interface Row {
  pool: string;
  holder: string;
  host: string;
  build: string;
  task: string;
  size: number;
  acquired_at: number;
  expires_at: number;
}

export interface LeaseContext {
  denied(req: IncomingMessage, need: Scope): number | undefined;
  readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined>;
}

function json(res: ServerResponse, status: number, value: unknown): number {
  send(res, status, `${JSON.stringify(value)}\n`, "application/json");
  return status;
}

const text = (value: unknown): value is string => typeof value === "string" && value !== "" && value.length <= MAX_FIELD;
const ttlOf = (value: unknown): number | undefined => (typeof value === "number" && Number.isSafeInteger(value) && value >= MIN_TTL_MS && value <= MAX_TTL_MS ? value : undefined);

export class LeaseTable {
  readonly #db: Database.Database;
  readonly #now: () => number;

  constructor(indexFile: string, now: () => number = Date.now) {
    this.#db = new Database(indexFile, { timeout: 15_000 });
    this.#db.pragma("journal_mode = WAL");
    this.#db.exec(SCHEMA);
    this.#now = now;
  }

  #expire(now: number): void {
    this.#db.prepare("DELETE FROM leases WHERE expires_at <= ?").run(now);
  }

  #holders(pool: string, now: number): Record<string, unknown>[] {
    const rows = this.#db.prepare("SELECT * FROM leases WHERE pool = ? ORDER BY acquired_at, holder").all(pool) as Row[];
    return rows.map((r) => ({ id: r.holder, host: r.host, build: r.build, task: r.task, ageMs: now - r.acquired_at, expiresInMs: r.expires_at - now }));
  }

  acquire(pool: string, size: number, holder: { id: string; host: string; build: string; task: string }, ttlMs: number): { granted: boolean; holders: Record<string, unknown>[] } {
    const now = this.#now();
    return this.#db.transaction(() => {
      this.#expire(now);
      const renewed = this.#db.prepare("UPDATE leases SET expires_at = ?, size = ? WHERE pool = ? AND holder = ?").run(now + ttlMs, size, pool, holder.id);
      if (renewed.changes > 0) return { granted: true, holders: this.#holders(pool, now) };
      const { n } = this.#db.prepare("SELECT count(*) AS n FROM leases WHERE pool = ?").get(pool) as { n: number };
      if (n >= size) return { granted: false, holders: this.#holders(pool, now) };
      this.#db
        .prepare("INSERT INTO leases (pool, holder, host, build, task, size, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .run(pool, holder.id, holder.host, holder.build, holder.task, size, now, now + ttlMs);
      return { granted: true, holders: this.#holders(pool, now) };
    })();
  }

  heartbeat(pool: string, holder: string, ttlMs: number): boolean {
    const now = this.#now();
    this.#expire(now);
    return this.#db.prepare("UPDATE leases SET expires_at = ? WHERE pool = ? AND holder = ?").run(now + ttlMs, pool, holder).changes > 0;
  }

  release(pool: string, holder: string): boolean {
    this.#expire(this.#now());
    return this.#db.prepare("DELETE FROM leases WHERE pool = ? AND holder = ?").run(pool, holder).changes > 0;
  }

  list(): { pool: string; size: number; holders: Record<string, unknown>[] }[] {
    const now = this.#now();
    this.#expire(now);
    const pools = this.#db.prepare("SELECT pool, max(size) AS size FROM leases GROUP BY pool ORDER BY pool").all() as { pool: string; size: number }[];
    return pools.map(({ pool, size }) => ({ pool, size, holders: this.#holders(pool, now) }));
  }

  close(): void {
    this.#db.close();
  }
}

/** Answers a request on LEASES_ROUTE (`match` is its match); returns the status. */
export async function handleLeases(context: LeaseContext, table: LeaseTable, req: IncomingMessage, res: ServerResponse, match: RegExpExecArray): Promise<number> {
  const [, encodedPool, action] = match;
  const no = context.denied(req, "write");
  if (no !== undefined) return (send(res, no, no === 403 ? "leases need a token that may write; this one may only read\n" : "unauthorized\n"), no);
  const method = req.method ?? "GET";
  if (action === undefined) {
    if (method !== "GET") return (send(res, 405, "use GET\n"), 405);
    return json(res, 200, { pools: table.list() });
  }
  if (method !== "POST") return (send(res, 405, "use POST\n"), 405);
  let pool: string;
  try {
    pool = decodeURIComponent(encodedPool!);
  } catch {
    return (send(res, 400, "the pool's name is not valid percent-encoding\n"), 400);
  }
  if (!text(pool)) return (send(res, 400, `a pool's name is 1 to ${MAX_FIELD} characters\n`), 400);
  const bytes = await context.readBody(req, MAX_BODY);
  if (bytes === undefined) return (send(res, 413, `too large: at most ${MAX_BODY} bytes\n`), 413);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    if (typeof body !== "object" || body === null) throw new Error("not an object");
  } catch {
    return (send(res, 400, "expected a JSON object\n"), 400);
  }
  const ttlMs = ttlOf(body.ttlMs);
  const ttlProblem = `"ttlMs" must be a whole number of milliseconds from ${MIN_TTL_MS} to ${MAX_TTL_MS}\n`;
  switch (action) {
    case "acquire": {
      const { size, holder } = body as { size?: unknown; holder?: Record<string, unknown> };
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) return (send(res, 400, '"size" must be a positive whole number\n'), 400);
      if (typeof holder !== "object" || holder === null || !text(holder.id) || !text(holder.host) || !text(holder.build) || !text(holder.task)) {
        return (send(res, 400, `"holder" must be {"id", "host", "build", "task"}, each a string of 1 to ${MAX_FIELD} characters\n`), 400);
      }
      if (ttlMs === undefined) return (send(res, 400, ttlProblem), 400);
      const answer = table.acquire(pool, size, { id: holder.id, host: holder.host, build: holder.build, task: holder.task }, ttlMs);
      return json(res, answer.granted ? 200 : 409, answer);
    }
    case "heartbeat": {
      if (!text(body.holder)) return (send(res, 400, '"holder" must be the id the lease was taken with\n'), 400);
      if (ttlMs === undefined) return (send(res, 400, ttlProblem), 400);
      const held = table.heartbeat(pool, body.holder, ttlMs);
      return json(res, held ? 200 : 404, { held });
    }
    case "release": {
      if (!text(body.holder)) return (send(res, 400, '"holder" must be the id the lease was taken with\n'), 400);
      return json(res, 200, { released: table.release(pool, body.holder) });
    }
    default:
      return (send(res, 404, "not found\n"), 404);
  }
}
