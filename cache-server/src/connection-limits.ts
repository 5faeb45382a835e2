/**
 * How long a client may take to send a request, and how many connections the
 * server holds at once. A client that sends its headers a line a second, or
 * its body a byte a minute, holds a connection and a descriptor; with no cap a
 * flood of them took every descriptor and locked real clients out. Slow
 * clients are cut at these deadlines (the 408 is Node's), and connections past
 * the cap are closed at once, so real clients get through once slow ones are cut.
 */
import { readFileSync } from "node:fs";

/** Time to send a request's headers: a real client sends them in one write. */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * Time to send a whole request, body included: an upload of a blob of 2.5 GB
 * (the largest a default server keeps) at 1.4 MB/s.
 */
export const REQUEST_TIMEOUT_MS = 30 * 60_000;

/** Connections held at once, whatever the descriptor limit. */
const MAX_CONNECTIONS_CEILING = 4096;
/** Descriptors kept for the index, its journal, temp files and the listening socket. */
const RESERVED_DESCRIPTORS = 128;

/**
 * The connection cap that keeps the server within its descriptor limit: each
 * connection may need a second descriptor for the blob it streams in or out.
 * The limit is read from /proc (Linux); elsewhere 1024 is assumed.
 */
export function defaultMaxConnections(): number {
  let limit = 1024;
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (line !== null) limit = line[1] === "unlimited" ? Infinity : Number(line[1]);
  } catch {
    // Not Linux: keep the assumption.
  }
  return Math.max(16, Math.min(MAX_CONNECTIONS_CEILING, Math.floor((limit - RESERVED_DESCRIPTORS) / 2)));
}

/** How often Node looks for requests past their deadline: often enough that a deadline is kept to within half. */
export function checkingIntervalFor(headersTimeoutMs: number): number {
  return Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 2)));
}
