import { describe, expect, test } from "vitest";
import { digestBytes, type Digest } from "@rbuild/hash";
import { manifestDigest, type ActionEntry, type ManifestEntry } from "@rbuild/store";
import { checkRemoteEntry, encodeRemoteEntry, readRemoteEntry, type RemoteEntry } from "./remote-entry.js";

const [BASE, MIDDLE, OWN] = [digestBytes("base layer"), digestBytes("middle layer"), digestBytes("own layer")];
const SIZES = new Map<Digest, number>([[BASE, 4096], [MIDDLE, 2048], [OWN, 1024]]);

function transformEntry(stack?: Digest[]): ActionEntry {
  const manifest: ManifestEntry[] = [{ path: "tree/a", type: "file", mode: 0o644, size: 1, digest: digestBytes("a") }];
  return { key: "k".repeat(64), task: "step2", layer: OWN, ...(stack ? { stack } : {}), manifest, outputsDigest: manifestDigest(manifest), log: [], logBlob: null, exitCode: 0, durationMs: 3 };
}

describe("remote entries of transforms", () => {
  test("27.3: a transform's entry is format 3 and lists every layer of its stack among its blobs, with sizes, and reads back as the same action", () => {
    const entry = transformEntry([BASE, MIDDLE]);
    const encoded = encodeRemoteEntry(entry, (digest) => SIZES.get(digest))!;
    const value = JSON.parse(encoded.entry.toString()) as { format: number; blobs: string[]; stack: unknown };
    expect([value.format, value.blobs, value.stack]).toEqual([3, [BASE, MIDDLE, OWN], [{ digest: BASE, size: 4096 }, { digest: MIDDLE, size: 2048 }]]);
    const remote = readRemoteEntry(encoded.entry) as RemoteEntry;
    expect(remote.stack).toEqual([{ digest: BASE, size: 4096 }, { digest: MIDDLE, size: 2048 }]);
    expect(checkRemoteEntry(remote, (remote.manifest as { inline: unknown }).inline, entry.key, "step2", ["tree/**"])).toEqual(entry);
    // A full layer stays format 2, as before transforms.
    expect((JSON.parse(encodeRemoteEntry(transformEntry(), (digest) => SIZES.get(digest))!.entry.toString()) as { format: number }).format).toBe(2);
  });

  test("27.3: a layer of the stack gone from the local store: nothing whole to share; a malformed stack is refused", () => {
    expect(encodeRemoteEntry(transformEntry([digestBytes("gone"), MIDDLE]), (digest) => SIZES.get(digest))).toBeUndefined();
    const value = JSON.parse(encodeRemoteEntry(transformEntry([BASE]), (digest) => SIZES.get(digest))!.entry.toString()) as Record<string, unknown>;
    for (const stack of [[], [{ digest: "nope", size: 1 }], "x", [null]]) {
      expect(readRemoteEntry(Buffer.from(JSON.stringify({ ...value, stack })))).toBe("a malformed layer stack");
    }
  });
});
