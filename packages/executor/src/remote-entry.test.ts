import { describe, expect, test } from "vitest";
import { digestBytes, type Digest } from "@rbuild/hash";
import { MAX_BLOB_BYTES } from "@rbuild/remote";
import { manifestDigest, type ActionEntry, type ManifestEntry } from "@rbuild/store";
import { checkRemoteEntry, encodeRemoteEntry, MANIFEST_INLINE_MAX, parseManifestBlob, readRemoteEntry, type RemoteEntry } from "./remote-entry.js";

const LAYER = digestBytes("layer");

function entryWith(count: number): ActionEntry {
  const manifest: ManifestEntry[] = Array.from({ length: count }, (_, i) => ({ path: `out/f${i}.txt`, type: "file", mode: 0o644, size: 3, digest: digestBytes(`${i}`) }));
  return { key: "k".repeat(64), task: "many", layer: LAYER, manifest, outputsDigest: manifestDigest(manifest), log: [["o", "hi\n"]], logBlob: null, exitCode: 0, durationMs: 12 };
}

const sizes = (digest: Digest): number | undefined => (digest === LAYER ? 5000 : undefined);

describe("remote entries", () => {
  test("20.12: a small entry names each blob with its size, and reads back as the same action", () => {
    const entry = entryWith(3);
    const encoded = encodeRemoteEntry(entry, sizes)!;
    expect(encoded.manifestBlob).toBeNull();
    const value = JSON.parse(encoded.entry.toString()) as { format: number; blobs: string[]; layer: unknown };
    expect([value.format, value.blobs, value.layer]).toEqual([2, [LAYER], { digest: LAYER, size: 5000 }]);
    const remote = readRemoteEntry(encoded.entry) as RemoteEntry;
    expect(remote.layer).toEqual({ digest: LAYER, size: 5000 });
    expect(checkRemoteEntry(remote, (remote.manifest as { inline: unknown }).inline, entry.key, "many", ["out/**"])).toEqual(entry);
  });

  test("20.12: an entry that declares a blob over MAX_BLOB_BYTES is refused before anything is downloaded", () => {
    const huge = 3 * 1024 ** 3;
    const encoded = encodeRemoteEntry(entryWith(3), (digest) => (digest === LAYER ? huge : undefined))!;
    expect(readRemoteEntry(encoded.entry)).toBe(`its layer is ${huge} bytes, more than the ${MAX_BLOB_BYTES} (1 GiB) rbuild reads or shares through a remote`);
    const justRight = encodeRemoteEntry(entryWith(3), (digest) => (digest === LAYER ? MAX_BLOB_BYTES : undefined))!;
    expect((readRemoteEntry(justRight.entry) as RemoteEntry).layer).toEqual({ digest: LAYER, size: MAX_BLOB_BYTES });
  });

  test("20.16: a large manifest travels as a blob the entry names; the entry stays small", () => {
    const entry = entryWith(10_000);
    const encoded = encodeRemoteEntry(entry, sizes)!;
    const blob = encoded.manifestBlob!;
    expect(blob.bytes.length).toBeGreaterThan(1024 * 1024);
    expect(digestBytes(blob.bytes)).toBe(blob.digest);
    expect(encoded.entry.length).toBeLessThan(1024);
    expect((JSON.parse(encoded.entry.toString()) as { blobs: string[] }).blobs).toEqual([LAYER, blob.digest]);
    const remote = readRemoteEntry(encoded.entry) as RemoteEntry;
    expect(remote.manifest).toEqual({ blob: { digest: blob.digest, size: blob.bytes.length } });
    expect(checkRemoteEntry(remote, parseManifestBlob(blob.bytes), entry.key, "many", ["out/**"])).toEqual(entry);
    // Just over the threshold goes to a blob, just under stays inline.
    const inlineCount = Math.floor(MANIFEST_INLINE_MAX / JSON.stringify(entry.manifest[9_999]).length) - 20;
    expect(encodeRemoteEntry(entryWith(inlineCount), sizes)!.manifestBlob).toBeNull();
  });

  test("20.16: a manifest blob that is not the entry's manifest is refused", () => {
    const encoded = encodeRemoteEntry(entryWith(10_000), sizes)!;
    const remote = readRemoteEntry(encoded.entry) as RemoteEntry;
    const other = encodeRemoteEntry(entryWith(10_001), sizes)!.manifestBlob!;
    expect(checkRemoteEntry(remote, parseManifestBlob(other.bytes), "k".repeat(64), "many", ["out/**"])).toBe("its outputs digest does not match its manifest");
    expect(checkRemoteEntry(remote, parseManifestBlob(Buffer.from("{not json")), "k".repeat(64), "many", ["out/**"])).toBe("the entry has no manifest");
  });

  test("20.16: an entry in a format this rbuild does not read is a miss, not a refusal", () => {
    const formatOne = { blobs: [], format: 1, task: "t", layer: null, manifest: [], outputsDigest: manifestDigest([]), log: null, logBlob: null, exitCode: 0, durationMs: 1 };
    expect(readRemoteEntry(Buffer.from(JSON.stringify(formatOne)))).toBeUndefined();
    expect(readRemoteEntry(Buffer.from(JSON.stringify({ ...formatOne, format: 4 })))).toBeUndefined();
    expect(readRemoteEntry(Buffer.from("{not json"))).toBe("the entry is not JSON");
  });

  test("an entry whose blob is gone from the local store is not encoded (nothing whole to share)", () => {
    expect(encodeRemoteEntry(entryWith(1), () => undefined)).toBeUndefined();
  });
});
