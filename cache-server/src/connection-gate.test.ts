import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-gate-");

/**
 * A client that connects from `localAddress` (any 127.x.y.z is loopback on Linux, so each is a
 * different peer to the server), sends half a request's headers and never the rest; when the
 * server cuts it, it connects again, as an attacker would. `stop()` ends the loop.
 */
function slowFlood(port: number, localAddress: string, sockets: number) {
  let stopped = false;
  let opened = 0;
  const live = new Set<Socket>();
  const open = (): void => {
    if (stopped) return;
    const socket = connect({ port, host: "127.0.0.1", localAddress });
    opened++;
    live.add(socket);
    socket.on("error", () => undefined);
    socket.on("connect", () => socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n"));
    socket.on("close", () => {
      live.delete(socket);
      setImmediate(open);
    });
  };
  for (let i = 0; i < sockets; i++) open();
  return {
    get opened() {
      return opened;
    },
    stop() {
      stopped = true;
      for (const socket of live) socket.destroy();
    },
  };
}

async function answer(url: string, init?: RequestInit): Promise<[number, string]> {
  const response = await fetch(url, init);
  return [response.status, await response.text()];
}

describe("connection gate", () => {
  test("20.C: a flood of slow-header sockets from one peer, and from many, locks out neither /healthz nor a real get", async () => {
    // A long headers deadline: what lets real clients in here is the gate, not slow clients being cut.
    const s = await each.start({ headersTimeoutMs: 60_000, maxConnections: 16, maxConnectionsPerPeer: 4 });
    const port = Number(new URL(s.url).port);
    const digest = digestBytes("a real blob");
    expect(await answer(`${s.url}/rbuild/v1/cas/blake3/${digest}`, { method: "PUT", body: "a real blob" })).toEqual([200, "stored\n"]);
    // 120 reconnecting sockets from one peer (the brief's ulimit -n 128 case), plus peers each
    // under the per-peer cap that together would fill the global cap.
    const floods = [slowFlood(port, "127.0.0.2", 120), ...["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"].map((a) => slowFlood(port, a, 4))];
    try {
      // Wait until the floods have been turned away or cut many times over: the server is as full as they can make it.
      await expect.poll(() => floods[0]!.opened, { timeout: 30_000, interval: 20 }).toBeGreaterThan(400);
      for (let i = 0; i < 5; i++) {
        expect(await answer(`${s.url}/healthz`)).toEqual([200, "ok\n"]);
        expect(await answer(`${s.url}/rbuild/v1/cas/blake3/${digest}`)).toEqual([200, "a real blob"]);
      }
    } finally {
      for (const flood of floods) flood.stop();
    }
  }, 60_000);

  test("20.C: a peer holds at most its cap of connections: its oldest without a complete request give way", async () => {
    const s = await each.start({ headersTimeoutMs: 60_000, maxConnections: 16, maxConnectionsPerPeer: 3 });
    const port = Number(new URL(s.url).port);
    const sockets: { socket: Socket; closed: Promise<unknown> }[] = [];
    for (let i = 0; i < 5; i++) {
      const socket = connect({ port, host: "127.0.0.1", localAddress: "127.0.0.9" });
      socket.on("error", () => undefined);
      sockets.push({ socket, closed: once(socket, "close") });
      await once(socket, "connect");
      // A round trip on another connection: the server has seen this one before the next is opened.
      expect(await answer(`${s.url}/healthz`)).toEqual([200, "ok\n"]);
    }
    try {
      await Promise.all(sockets.slice(0, 2).map(({ closed }) => closed));
      // The three newest are still served.
      for (const { socket } of sockets.slice(2)) {
        let text = "";
        socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
        socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
        while (!text.endsWith("\r\n\r\nok\n")) await once(socket, "data");
        expect(text.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
      }
    } finally {
      for (const { socket } of sockets) socket.destroy();
    }
  });
});
