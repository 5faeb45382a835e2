/**
 * The part of undici the remote client uses, its Agent and its request API,
 * loaded from the two modules that define them instead of undici's index.
 * The index loads all of undici (fetch, WebSocket, EventSource, the cache
 * and mock layers): bundled, 1.1 MB that took 69-83 ms to compile and run at
 * the first remote lookup of every build, on its critical path; these
 * modules and what they need take 27-31 ms.
 *
 * These paths are undici's internals, not its documented API, so undici is
 * pinned to one version (packages/remote and cli package.json), and the
 * bundle fails to build if they move.
 */
import type { Dispatcher } from "undici";
import Agent from "undici/lib/dispatcher/agent.js";
import apiRequest from "undici/lib/api/api-request.js";

export { Agent };

export type RequestOptions = Pick<Dispatcher.RequestOptions, "method" | "body" | "headers" | "signal">;

/** What undici's `request(url, { dispatcher, ...options })` does, for an absolute URL. */
export function request(dispatcher: Dispatcher, url: string, options: RequestOptions): Promise<Dispatcher.ResponseData> {
  const { origin, pathname, search } = new URL(url);
  return apiRequest.call(dispatcher, { ...options, origin, path: `${pathname}${search}` });
}
