/**
 * Following a build's event stream, `GET /api/v1/builds/:id/events` (reference concourse.md §2.8).
 *
 * Each `event: event` message carries the envelope `{data, event, version, event_id}` under a
 * 0-based stream `id`; `event: end` comes once the build has finished and every event was sent, and
 * the server then keeps the connection open, so the client closes it. A connection that drops
 * before `end` is opened again with `Last-Event-ID: <last id seen>`, and the server resumes after
 * it: no event is handed on twice (an id at or below the last one seen is skipped, in case a server
 * resends) and none is missed. After MAX_RETRIES drops in a row with no new event, it gives up.
 */
import { err, ok, type Result } from "@rbuild/core";
import { SseParser } from "./sse.js";
import { discard, type Session } from "./session.js";
import type { BuildEvent, BuildStatus, ConcourseFailure } from "./types.js";

const MAX_RETRIES = 5;
const KNOWN = new Set(["status", "log", "initialize-task", "start-task", "finish-task", "error"]);
/** Major versions of the events rbuild reads (atc/event/types.go); another major is another shape. */
const MAJORS: Record<string, string> = { status: "1", log: "5", "initialize-task": "4", "start-task": "5", "finish-task": "4", error: "4" };

export interface FollowOptions {
  /** Called for each event, in stream order, once each. */
  readonly onEvent: (event: BuildEvent) => void;
  /** Stops following (the build goes on: abort it to stop it). */
  readonly signal?: AbortSignal;
  /** Waits before reconnecting after a drop; `attempt` counts from 1. By default 200 ms times the attempt. */
  readonly pause?: (attempt: number) => Promise<void>;
}

export interface Followed {
  /** The last `status` event's status; `undefined` if following stopped before one came. */
  readonly status: BuildStatus | undefined;
  /** How many times the stream was opened again after a drop. */
  readonly reconnects: number;
}

/** The event an envelope holds, or a failure message if it is not one. */
export function parseEnvelope(id: number, text: string): BuildEvent | string {
  let envelope: { event?: unknown; version?: unknown; data?: unknown };
  try {
    envelope = JSON.parse(text) as typeof envelope;
  } catch {
    return `event ${id} is not JSON`;
  }
  const { event, version, data } = envelope;
  if (typeof event !== "string" || typeof version !== "string") return `event ${id} has no event type or version`;
  if (!KNOWN.has(event)) return { id, version, event: "other", type: event, data };
  if (version.split(".")[0] !== MAJORS[event]) return `event ${id} is "${event}" version ${version}; rbuild reads version ${MAJORS[event]}.x`;
  if (typeof data !== "object" || data === null) return `event ${id} ("${event}") has no data`;
  return { id, version, event, data } as BuildEvent;
}

/** Follows build `buildId`'s events to the end of its stream (see the module note). */
export async function followBuild(session: Session, buildId: number, options: FollowOptions): Promise<Result<Followed, ConcourseFailure>> {
  const path = `/api/v1/builds/${buildId}/events`;
  const url = `${session.base}${path}`;
  const pause = options.pause ?? ((attempt: number) => new Promise<void>((resolve) => setTimeout(resolve, 200 * attempt)));
  let last: number | undefined;
  let status: BuildStatus | undefined;
  let reconnects = 0;
  let drops = 0;
  let why = "";
  const stopped = (): boolean => options.signal?.aborted === true;
  for (;;) {
    if (stopped()) return ok({ status, reconnects });
    if (drops > 0) {
      if (drops > MAX_RETRIES) {
        return err({ reason: "stream-lost", url, message: `The event stream of build ${buildId} (${url}) dropped ${drops} times in a row without a new event (last: ${why}); the build may still be running.` });
      }
      await pause(drops);
      reconnects++;
    }
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (last !== undefined) headers["last-event-id"] = String(last);
    const sent = await session.send({ method: "GET", path, headers, bodyTimeout: false, signal: options.signal });
    if (!sent.ok) {
      if (sent.error.reason !== "unreachable") return sent;
      if (stopped()) return ok({ status, reconnects });
      drops++;
      why = sent.error.message;
      continue;
    }
    const response = sent.value;
    if (response.statusCode !== 200) return err(await session.failure(response, path, `Following build ${buildId}`));
    const parser = new SseParser();
    const before = last;
    let ended = false;
    let broken: string | undefined;
    try {
      reading: for await (const chunk of response.body) {
        for (const message of parser.push(chunk as Buffer)) {
          if (message.event === "end") {
            ended = true;
            break reading;
          }
          if (message.event !== "event") continue;
          const id = Number(message.id);
          if (!Number.isInteger(id)) {
            broken = `an event with the id "${message.id ?? ""}"`;
            break reading;
          }
          if (last !== undefined && id <= last) continue;
          const event = parseEnvelope(id, message.data);
          if (typeof event === "string") {
            broken = event;
            break reading;
          }
          last = id;
          if (event.event === "status") status = event.data.status;
          options.onEvent(event);
        }
      }
      if (!ended && broken === undefined) why = "the server closed the stream before its end";
    } catch (error) {
      why = `the connection was cut: ${(error as Error).message}`;
    } finally {
      discard(response); // After `end` the server holds the stream open: close it.
    }
    if (broken !== undefined) return err({ reason: "bad-answer", url, message: `The event stream of build ${buildId} (${url}) sent ${broken}.` });
    if (ended) return ok({ status, reconnects });
    drops = last === before ? drops + 1 : 1;
  }
}
