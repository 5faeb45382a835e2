/**
 * A misbehaving cache server on loopback, for testing that a remote can only
 * ever make a build slower, never wrong or failed. One place for all faults.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault = "503" | "stall" | "truncated" | "wrong-bytes" | "garbage-entry" | "no-batch";

export interface FaultServer {
  readonly url: string;
  readonly requests: string[];
  stop(): Promise<void>;
}

export async function startFaultServer(fault: Fault): Promise<FaultServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
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
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
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
