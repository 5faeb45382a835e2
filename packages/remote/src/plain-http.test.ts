import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { digestBytes } from "@rbuild/hash";
import { startNginx, type RunningNginx } from "../../../test-support/nginx.js";
import { HttpRemoteCache } from "./http-remote.js";
import { openRemote } from "./open-remote.js";
import { PlainHttpRemote } from "./plain-http-remote.js";
import { RemoteError } from "./remote-cache.js";
import { remoteCacheContract } from "./test-support/contract.js";

const blobPath = (nginx: RunningNginx, digest: string): string => join(nginx.root, "rbuild", "v1", "cas", "blake3", digest);

remoteCacheContract("the plain HTTP client against nginx's WebDAV module", async () => {
  const nginx = await startNginx();
  const cache = new PlainHttpRemote({ url: nginx.url });
  return {
    cache,
    loseBlob: (digest) => rmSync(blobPath(nginx, digest)),
    stop: async () => {
      await cache.close();
      await nginx.stop();
    },
  };
});

describe("a plain HTTP store (nginx WebDAV)", () => {
  let nginx: RunningNginx;
  let dir: string;
  beforeAll(async () => {
    nginx = await startNginx({ users: { ci: "s3cret" } });
    dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-plain-")));
  });
  afterAll(async () => {
    await nginx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const withUser = (user: string): string => nginx.url.replace("http://", `webdav+http://${user}@`);

  test("25.4: webdav+http:// URLs open the plain client, its user and password sent as Basic credentials", async () => {
    const cache = openRemote(withUser("ci:s3cret"));
    const digest = digestBytes("stored with credentials");
    await cache.putBlob(digest, Buffer.from("stored with credentials"));
    expect(readFileSync(blobPath(nginx, digest), "utf8")).toBe("stored with credentials");
    expect(await cache.missing([digest])).toEqual([]);
    await cache.close();
    const wrong = openRemote(withUser("ci:wrong"));
    const error = await wrong.missing([digest]).catch((e: unknown) => e);
    expect(error).toEqual(new RemoteError("unauthorized", `looking for blob ${digest.slice(0, 12)}: 401 unauthorized (check the user and password in the --remote URL, or --token)`));
    await wrong.close();
  });

  test("25.4: what is not an entry (an HTML page, a JSON without blobs) is a miss, never a hit", async () => {
    const cache = openRemote(withUser("ci:s3cret"));
    const html = "a".repeat(64);
    const noBlobs = "b".repeat(64);
    mkdirSync(join(nginx.root, "rbuild", "v1", "ac"), { recursive: true });
    writeFileSync(join(nginx.root, "rbuild", "v1", "ac", html), "<html><head><title>Welcome</title></head><body>hi</body></html>\n");
    writeFileSync(join(nginx.root, "rbuild", "v1", "ac", noBlobs), JSON.stringify({ format: 2 }));
    expect(await cache.getEntry(html)).toBeUndefined();
    expect(await cache.getEntries([html, noBlobs])).toEqual(new Map());
    await expect(cache.putEntry(html, Buffer.from("<html></html>"))).rejects.toEqual(new RemoteError("status", `storing entry ${html.slice(0, 12)}: not a JSON object with "blobs"`));
    await cache.close();
  });

  test("25.4: a blob spoiled on the store is corrupt, not written, and uploaded again by the next putBlob", async () => {
    const cache = openRemote(withUser("ci:s3cret"));
    const bytes = Buffer.from("the right bytes");
    const digest = digestBytes(bytes);
    await cache.putBlob(digest, bytes);
    writeFileSync(blobPath(nginx, digest), "the wrong bytes"); // Same size: only the digest tells.
    expect(await cache.getBlob(digest, join(dir, "spoiled"), bytes.length)).toBe("corrupt");
    expect(existsSync(join(dir, "spoiled"))).toBe(false);
    // Listed as missing, so that a rerun's upload mends the store (it has no DELETE).
    expect(await cache.missing([digest])).toEqual([digest]);
    await cache.putBlob(digest, bytes);
    expect(readFileSync(blobPath(nginx, digest), "utf8")).toBe("the right bytes");
    expect(await cache.missing([digest])).toEqual([]);
    expect(await cache.getBlob(digest, join(dir, "mended"), bytes.length)).toBe("ok");
    await cache.close();
  });

  test("25.4: rbuild's protocol client pointed at a plain store says to use webdav+http://", async () => {
    const store = await startNginx();
    const plain = new HttpRemoteCache({ url: store.url });
    try {
      expect(await plain.getEntries(["c".repeat(64)])).toEqual(new Map());
      const error = await plain.missing([digestBytes("x")]).catch((e: unknown) => e);
      expect(error).toEqual(
        new RemoteError(
          "status",
          "asking which blobs are missing: HTTP 404, the server does not answer rbuild's batch calls; if it is a plain HTTP store (GET, HEAD and PUT only, such as nginx's WebDAV module), use --remote webdav+http://... (or webdav+https://)",
        ),
      );
    } finally {
      await plain.close();
      await store.stop();
    }
  });
});
