import { rmSync } from "node:fs";
import { join } from "node:path";
import { startCacheServer } from "rbuild-cache-server";
import { DirectoryCache } from "./directory-cache.js";
import { HttpRemoteCache } from "./http-remote.js";
import { remoteCacheContract } from "./test-support/contract.js";

remoteCacheContract("a shared directory (file://)", async (dir) => ({
  cache: new DirectoryCache(dir),
  loseBlob: (digest) => rmSync(join(dir, "cas", "blake3", digest.slice(0, 2), digest)),
  stop: async () => {},
}));

remoteCacheContract("the HTTP client against rbuild-cache-server", async (dir) => {
  const server = await startCacheServer({ dir, port: 0, maxSize: 1e9 });
  const cache = new HttpRemoteCache({ url: server.url });
  return {
    cache,
    loseBlob: (digest) => rmSync(server.store.path("cas/blake3", digest)),
    stop: async () => {
      await cache.close();
      await server.stop();
    },
  };
});
