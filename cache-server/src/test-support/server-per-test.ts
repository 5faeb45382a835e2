/** A fresh directory for each test, and the real server on it (port 0 of loopback), stopped after. */
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { startCacheServer, type RunningServer, type ServerOptions } from "../server.js";

export interface ServerPerTest {
  /** This test's directory (the server's store). */
  readonly dir: string;
  /** The server started by `start`, if it runs. */
  readonly server: RunningServer | undefined;
  start(options?: Partial<ServerOptions>): Promise<RunningServer>;
  /** Stops the server now (a test that restarts it on the same directory). */
  stop(): Promise<void>;
}

/** Registers the hooks; call once at the top of a test file. */
export function serverPerTest(prefix: string): ServerPerTest {
  let dir = "";
  let server: RunningServer | undefined;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get server() {
      return server;
    },
    async start(options = {}) {
      server = await startCacheServer({ dir, port: 0, maxSize: 1e9, ...options });
      return server;
    },
    async stop() {
      await server?.stop();
      server = undefined;
    },
  };
}
