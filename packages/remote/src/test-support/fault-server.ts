/**
 * A misbehaving cache server on loopback, for testing that a remote can only
 * ever make a build slower, never wrong or failed. One place for all faults.
 */
import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault = "503" | "stall" | "truncated" | "wrong-bytes" | "garbage-entry" | "no-batch" | "endless" | "defers-everything" | "drip";

/** What "endless" sends for any request, chunked, with no length announced. */
export const ENDLESS_BYTES = 64 * 1024 * 1024;

export interface FaultServer {
  readonly url: string;
  readonly requests: string[];
  /** Per request, once its connection is done: whether the whole answer was written ("endless" only). */
  readonly finished: Promise<boolean>[];
  /** Resolves when the first request has arrived. */
  readonly received: Promise<void>;
  stop(): Promise<void>;
}

/** Writes ENDLESS_BYTES, as fast as the client reads, until done or the client hangs up. */
async function sendEndless(res: ServerResponse): Promise<void> {
  res.writeHead(200, { "content-type": "application/json" });
  const chunk = Buffer.alloc(64 * 1024, "a");
  for (let sent = 0; sent < ENDLESS_BYTES && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk)) await Promise.race([once(res, "drain"), once(res, "close")]);
  }
  res.end();
}

/** Announces 1000 bytes and sends one every 50 ms, until the client hangs up: no undici timeout between chunks trips. */
function drip(res: ServerResponse): void {
  res.writeHead(200, { "content-length": "1000" });
  let sent = 0;
  const timer = setInterval(() => (++sent < 1000 ? res.write("d") : res.end("d")), 50);
  res.on("close", () => clearInterval(timer));
  res.on("finish", () => clearInterval(timer));
}

export async function startFaultServer(fault: Fault): Promise<FaultServer> {
  const requests: string[] = [];
  const finished: Promise<boolean>[] = [];
  let arrived = (): void => {};
  const received = new Promise<void>((resolve) => (arrived = resolve));
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    arrived();
    finished.push(new Promise((resolve) => res.on("close", () => resolve(res.writableFinished))));
    if (fault !== "defers-everything") req.resume();
    switch (fault) {
      case "503":
        res.writeHead(503, { "content-type": "text/plain" }).end("overloaded\n");
        return;
      case "stall":
        return; // Never answers.
      case "truncated":
        res.writeHead(200, { "content-length": "1000" });
        res.write("only a little");
        setTimeout(() => res.destroy(), 20);
        return;
      case "wrong-bytes":
        if (req.url?.includes("/ac/")) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ blobs: [] }));
        else res.writeHead(200).end("these are not the bytes you asked for");
        return;
      case "no-batch":
        // A server from before `ac:get`: it knows single entries only.
        if (req.method === "GET" && req.url?.includes("/ac/")) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ blobs: [] }));
        else res.writeHead(404).end("not found\n");
        return;
      case "garbage-entry":
        res.writeHead(200).end("{not json");
        return;
      case "endless":
        void sendEndless(res);
        return;
      case "drip":
        drip(res);
        return;
      case "defers-everything":
        // Answers no key and puts every one off until later, forever.
        void (async () => {
          const keys = (JSON.parse(Buffer.concat(await req.toArray()).toString()) as { keys: string[] }).keys;
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ entries: {}, later: keys }));
        })();
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    finished,
    received,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A URL where nothing listens: a port that was free a moment ago. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
