/** The real cache server for one test: on a fresh directory and a free port of loopback, stopped and removed when the test finishes. */
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { startCacheServer, type RunningServer, type ServerOptions } from "rbuild-cache-server";

export async function testCacheServer(prefix = "rbuild-e2e-server-", options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  let server: RunningServer | undefined;
  onTestFinished(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  server = await startCacheServer({ dir, port: 0, maxSize: 1e9, ...options });
  return server;
}
