/**
 * The test double's builds and their event streams (reference concourse.md §2.7, §2.8).
 *
 * A build stores its events in order; each has a global `event_id` and is served under its 0-based
 * index as the SSE `id`. The stream writes every stored event from `Last-Event-ID + 1` on, waits
 * for more while the build runs, writes `event: end` once the build has finished and everything
 * was sent, and then keeps the connection open until the client goes away (as the ATC does).
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type FakeBuildStatus = "pending" | "started" | "succeeded" | "failed" | "errored" | "aborted";

export interface Envelope {
  readonly data: unknown;
  readonly event: string;
  readonly version: string;
  readonly event_id: string;
}

/** What a test asks of the next streams: cut the connection after this many events were written on it. */
export interface StreamDrop {
  afterEvents: number;
  /** How many connections to cut; each one counts down. With `afterEvents` 0, each is cut right after its headers. */
  times: number;
}

export class FakeBuild {
  readonly id: number;
  readonly name: string;
  readonly team: string;
  readonly job: { readonly name: string; readonly pipeline: string; readonly pipelineId: number } | undefined;
  readonly plan: unknown;
  status: FakeBuildStatus;
  startTime: number | undefined;
  endTime: number | undefined;
  readonly events: Envelope[] = [];
  /** Artifact ids its `artifact_output` steps registered. */
  readonly artifacts: number[] = [];
  /** Stops what runs (set while a task's process runs). */
  stop: (() => void) | undefined;
  abortRequested = false;
  readonly #waiters = new Set<() => void>();
  readonly #nextEventId: () => number;

  constructor(fields: { id: number; name: string; team: string; job?: FakeBuild["job"]; plan: unknown; status: FakeBuildStatus; nextEventId: () => number }) {
    this.id = fields.id;
    this.name = fields.name;
    this.team = fields.team;
    this.job = fields.job;
    this.plan = fields.plan;
    this.status = fields.status;
    this.#nextEventId = fields.nextEventId;
  }

  get finished(): boolean {
    return this.status !== "pending" && this.status !== "started";
  }

  emit(event: string, version: string, data: unknown): void {
    this.events.push({ data, event, version, event_id: String(this.#nextEventId()) });
    this.#wake();
  }

  start(now: number): void {
    this.status = "started";
    this.startTime = now;
    this.emit("status", "1.0", { status: "started", time: now });
  }

  /** Stores the terminal status event, then lets streams send `end`. */
  finish(status: Exclude<FakeBuildStatus, "pending" | "started">, now: number): void {
    if (this.finished) return;
    this.startTime ??= now;
    this.endTime = now;
    this.emit("status", "1.0", { status, time: now });
    this.status = status;
    this.#wake();
  }

  /** atc.Build as the API presents it. */
  present(): Record<string, unknown> {
    const build: Record<string, unknown> = { id: this.id, name: this.name, status: this.status, api_url: `/api/v1/builds/${this.id}`, team_name: this.team };
    if (this.job !== undefined) Object.assign(build, { job_name: this.job.name, pipeline_id: this.job.pipelineId, pipeline_name: this.job.pipeline });
    if (this.startTime !== undefined) build.start_time = this.startTime;
    if (this.endTime !== undefined) build.end_time = this.endTime;
    return build;
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.add(resolve));
  }

  /** Serves `GET /api/v1/builds/:id/events`; `drop` is consulted once for this connection. */
  async stream(request: IncomingMessage, response: ServerResponse, drop: StreamDrop | undefined): Promise<void> {
    const header = request.headers["last-event-id"];
    let next = 0;
    if (header !== undefined) {
      const last = Number(header);
      if (!/^\d+$/.test(String(header)) || !Number.isSafeInteger(last)) {
        response.writeHead(400).end();
        return;
      }
      next = last + 1;
    }
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-store, must-revalidate",
      "x-accel-buffering": "no",
      "x-atc-stream-version": "2.0",
    });
    response.flushHeaders();
    if (drop?.afterEvents === 0) {
      response.socket?.destroy();
      return;
    }
    let closed = false;
    response.on("close", () => {
      closed = true;
      this.#wake();
    });
    let written = 0;
    while (!closed) {
      while (next < this.events.length && !closed) {
        const message = `id: ${next}\nevent: event\ndata: ${JSON.stringify(this.events[next])}\n\n`;
        next++;
        written++;
        if (drop !== undefined && written >= drop.afterEvents) {
          // A dropped connection: once this event is out, the socket goes away mid-stream, without a clean end of the body.
          await new Promise<void>((resolve) => response.write(message, () => resolve()));
          response.socket?.destroy();
          return;
        }
        response.write(message);
      }
      if (this.finished && next >= this.events.length) {
        response.write(`id: ${this.events.length}\nevent: end\ndata\n\n`);
        // The ATC keeps the stream open after `end` until the client disconnects.
        await new Promise<void>((resolve) => (closed ? resolve() : response.once("close", () => resolve())));
        return;
      }
      await this.#changed();
    }
  }
}
