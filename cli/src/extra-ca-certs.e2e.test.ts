/**
 * NODE_EXTRA_CA_CERTS through the rbuild command (bin/rbuild): Node reads it
 * as it starts, so function tasks and an https remote trust exactly the
 * certificates Node trusts, with a daemon or without one. The server's
 * certificate is signed by a private CA that only NODE_EXTRA_CA_CERTS names.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { connect, type Server } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { daemonPids, servedBuilds, stopDaemons, until } from "./test-support/daemon.js";
import { Workspace } from "./test-support/workspace.js";

const REMOTE_BUILDFILE = `import { task } from "rbuild";
task({ name: "gen", outputs: ["env.txt"], env: ["NODE_EXTRA_CA_CERTS"],
  run: "echo run >> gen.count; echo \\"extra=$NODE_EXTRA_CA_CERTS\\" > env.txt" });
`;

/** A function task that fetches from `url` with Node's fetch, in rbuild's own process (or its daemon's). */
const fetchBuildfile = (url: string): string => `import { task } from "rbuild";
task({ name: "fetch", pure: false, run: async ({ log }) => {
  // fetch's own error says only "fetch failed": its cause says why.
  const response = await fetch(${JSON.stringify(url)}).catch((error) => { throw new Error(\`fetch failed: \${error.cause?.message}\`); });
  log(await response.text());
} });
`;

let dir: string;
let ca: string;
let cache: RunningServer;
let tlsProxy: Server;
let remoteUrl: string;
let hello: HttpsServer;
let helloUrl: string;

/** A private CA, and a certificate for 127.0.0.1 it signs: trusted only through NODE_EXTRA_CA_CERTS. */
function makeCertificates(): { key: Buffer; cert: Buffer } {
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { stdio: "ignore" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2",
    "-subj", "/CN=rbuild test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1");
  writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl("x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-out", file("server.pem"), "-days", "2", "-extfile", file("server.ext"));
  return { key: readFileSync(file("server.key")), cert: readFileSync(file("server.pem")) };
}

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-tls-")));
  const server = makeCertificates();
  ca = join(dir, "ca.pem");

  hello = createHttpsServer(server, (_request, response) => response.end("hello over tls"));
  await new Promise<void>((resolve) => hello.listen(0, "127.0.0.1", resolve));
  helloUrl = `https://127.0.0.1:${(hello.address() as { port: number }).port}/`;

  cache = await startCacheServer({ dir: join(dir, "server"), port: 0, maxSize: 1e9 });
  const upstream = new URL(cache.url);
  // TLS in front of the real cache server.
  tlsProxy = createTlsServer(server, (client) => {
    const socket = connect(Number(upstream.port), upstream.hostname);
    client.pipe(socket).pipe(client);
    client.on("error", () => socket.destroy());
    socket.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => tlsProxy.listen(0, "127.0.0.1", resolve));
  remoteUrl = `https://127.0.0.1:${(tlsProxy.address() as { port: number }).port}`;
});

afterAll(async () => {
  hello.closeAllConnections();
  await new Promise((resolve) => hello.close(resolve));
  await new Promise((resolve) => tlsProxy.close(resolve));
  await cache.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("NODE_EXTRA_CA_CERTS", () => {
  test("21.5: a function task fetches from an https server with a private CA through the rbuild command, with and without a daemon", async () => {
    const ws = new Workspace("rbuild-tls-fetch-").write({ "Buildfile.ts": fetchBuildfile(helloUrl) });
    try {
      const fetched = { exitCode: 0, stdout: "> fetch\n[fetch] hello over tls\n✓ fetch (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" };
      const env = { NODE_EXTRA_CA_CERTS: ca };
      // Without a daemon: the command runs rbuild in Node.
      expect(await ws.run(["fetch"], { command: true, env })).toEqual(fetched);
      // That build starts a daemon (in the same environment), and the next build is its.
      expect(await ws.run(["fetch"], { command: true, env: { ...env, RBUILD_DAEMON: "1" } })).toEqual(fetched);
      await until("the daemon listens", () => daemonPids(ws).length > 0);
      expect(await ws.run(["fetch"], { command: true, env: { ...env, RBUILD_DAEMON: "1" } })).toEqual(fetched);
      expect(servedBuilds(ws)).toBe(1);
      // The control: without the CA the fetch is refused.
      const refused = await ws.run(["fetch"], { command: true });
      expect(refused).toEqual({ exitCode: 1, stdout: "> fetch\n✗ fetch (<t>)\n", stderr: 'error: Buildfile.ts:4:85: Task "fetch" failed: fetch failed: unable to verify the first certificate\nrbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n' });
    } finally {
      stopDaemons(ws);
      ws.remove();
    }
  });

  test("21.5: a daemon started without the CA leaves a client that names one to a Node of its own", async () => {
    const ws = new Workspace("rbuild-tls-daemon-").write({ "Buildfile.ts": fetchBuildfile(helloUrl) });
    try {
      // Node reads NODE_EXTRA_CA_CERTS only as it starts: this daemon cannot trust the CA.
      expect((await ws.run(["fetch"], { command: true, env: { RBUILD_DAEMON: "1" } })).exitCode).toBe(1);
      await until("the daemon listens", () => daemonPids(ws).length > 0);
      const result = await ws.run(["fetch"], { command: true, env: { NODE_EXTRA_CA_CERTS: ca, RBUILD_DAEMON: "1" } });
      expect(result).toEqual({ exitCode: 0, stdout: "> fetch\n[fetch] hello over tls\n✓ fetch (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
      expect(servedBuilds(ws)).toBe(0);
    } finally {
      stopDaemons(ws);
      ws.remove();
    }
  });

  test("an https remote trusts its certificates; tasks see the variable as the user set it", async () => {
    const first = new Workspace().write({ "Buildfile.ts": REMOTE_BUILDFILE });
    const second = new Workspace().write({ "Buildfile.ts": REMOTE_BUILDFILE });
    try {
      const env = { NODE_EXTRA_CA_CERTS: ca };
      const built = await first.run(["gen", "--remote", remoteUrl], { command: true, env });
      expect(built).toMatchObject({ exitCode: 0, stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
      expect(first.read("env.txt")).toBe(`extra=${ca}\n`);
      // The upload went through TLS: another workspace restores it.
      const restored = await second.run(["gen", "--remote", remoteUrl], { command: true, env });
      expect(restored).toMatchObject({ exitCode: 0, stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n", stdout: "✓ gen (cached, remote)\n" });
      expect(second.read("env.txt")).toBe(`extra=${ca}\n`);
      expect(existsSync(join(second.root, "gen.count"))).toBe(false);
    } finally {
      first.remove();
      second.remove();
    }
  });

  test("without the certificate the https remote is refused (so the test above needs it)", async () => {
    const ws = new Workspace().write({ "Buildfile.ts": REMOTE_BUILDFILE });
    try {
      const result = await ws.run(["gen", "--remote", remoteUrl], { command: true });
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toMatch(/^rbuild: remote cache: .*(certificate|self.signed)/im);
    } finally {
      ws.remove();
    }
  });
});
