/**
 * NODE_EXTRA_CA_CERTS through the rbuild command (see extra-ca-certs.ts): Node
 * starts without reading the certificates, tasks still see the variable as set,
 * and an https remote trusts them as Node would have.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { connect, type Server } from "node:net";
import { createServer } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { Workspace } from "./test-support/workspace.js";

const BUILDFILE = `import { task } from "rbuild";
task({ name: "gen", outputs: ["env.txt"], env: ["NODE_EXTRA_CA_CERTS", "RBUILD_DEFERRED_NODE_EXTRA_CA_CERTS"],
  run: "echo run >> gen.count; echo \\"extra=$NODE_EXTRA_CA_CERTS deferred=\${RBUILD_DEFERRED_NODE_EXTRA_CA_CERTS-unset}\\" > env.txt" });
`;

let dir: string;
let cert: string;
let cache: RunningServer;
let tlsProxy: Server;
let httpsUrl: string;

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-tls-")));
  cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  // A self-signed certificate for 127.0.0.1: trusted only through NODE_EXTRA_CA_CERTS.
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  cache = await startCacheServer({ dir: join(dir, "server"), port: 0, maxSize: 1e9 });
  const upstream = new URL(cache.url);
  // TLS in front of the real cache server.
  tlsProxy = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (client) => {
    const server = connect(Number(upstream.port), upstream.hostname);
    client.pipe(server).pipe(client);
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => tlsProxy.listen(0, "127.0.0.1", resolve));
  httpsUrl = `https://127.0.0.1:${(tlsProxy.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => tlsProxy.close(resolve));
  await cache.stop();
  rmSync(dir, { recursive: true, force: true });
});

function workspace(): Workspace {
  return new Workspace().write({ "Buildfile.ts": BUILDFILE });
}

describe("NODE_EXTRA_CA_CERTS", () => {
  test("an https remote trusts its certificates; tasks see the variable as the user set it", async () => {
    const first = workspace();
    const second = workspace();
    try {
      const env = { NODE_EXTRA_CA_CERTS: cert };
      const built = await first.run(["gen", "--remote", httpsUrl], { command: true, env });
      expect(built).toMatchObject({ exitCode: 0, stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
      expect(first.read("env.txt")).toBe(`extra=${cert} deferred=unset\n`);
      // The upload went through TLS: another workspace restores it.
      const restored = await second.run(["gen", "--remote", httpsUrl], { command: true, env });
      expect(restored).toMatchObject({ exitCode: 0, stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n", stdout: "✓ gen (cached, remote)\n" });
      expect(second.read("env.txt")).toBe(`extra=${cert} deferred=unset\n`);
    } finally {
      first.remove();
      second.remove();
    }
  });

  test("without the certificate the https remote is refused (so the test above needs it)", async () => {
    const ws = workspace();
    try {
      const result = await ws.run(["gen", "--remote", httpsUrl], { command: true });
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toMatch(/^rbuild: remote cache: .*(certificate|self.signed)/im);
    } finally {
      ws.remove();
    }
  });

  test("Node does not read the file at start-up; rbuild reads it only for an https remote", async () => {
    const ws = workspace();
    try {
      const env = { NODE_EXTRA_CA_CERTS: join(dir, "missing.pem") };
      // Node itself warns at start-up about a file it cannot load: not through the rbuild command.
      expect((await ws.run(["gen"], { env })).stderr).toMatch(/Ignoring extra certs from/);
      expect(await ws.run(["gen"], { command: true, env })).toMatchObject({ exitCode: 0, stderr: "rbuild: ok: 0 ran, 1 cached in <t>\n" });
      const remote = await ws.run(["gen", "--force", "--remote", httpsUrl], { command: true, env });
      expect(remote.exitCode).toBe(0);
      expect(remote.stderr).toContain(`ignoring the extra CA certificates in ${join(dir, "missing.pem")} (NODE_EXTRA_CA_CERTS)`);
    } finally {
      ws.remove();
    }
  });
});
