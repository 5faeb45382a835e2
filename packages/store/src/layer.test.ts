import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestBytes, expandGlobs } from "@rbuild/hash";
import { createRequire } from "node:module";
import type { Header as TarHeader } from "tar/header";
import { encodeSimpleHeader, extractLayer, manifestDigest, writeLayer } from "./layer.js";

let dir: string;
let src: string;
let dst: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-layer-")));
  src = join(dir, "src");
  dst = join(dir, "dst");
  mkdirSync(src);
  mkdirSync(dst);
  const files: Record<string, string> = {
    "out/a.txt": "hello\n",
    "out/run.sh": "#!/bin/sh\necho hi\n",
    "out/résumé ñ.txt": "ünïcode\n",
    [`out/deep/${"x".repeat(120)}.txt`]: "long name\n",
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, name)), { recursive: true });
    writeFileSync(join(src, name), text);
  }
  chmodSync(join(src, "out/run.sh"), 0o755);
  chmodSync(join(src, "out/a.txt"), 0o640);
  mkdirSync(join(src, "out/empty"), { mode: 0o750 });
  chmodSync(join(src, "out/empty"), 0o750);
  symlinkSync("a.txt", join(src, "out/link"));
  symlinkSync("../node_modules/pkg", join(src, "out/dirlink"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const layerOf = (root: string, name: string, inlineMax = 0) => writeLayer(root, expandGlobs(root, ["out/**"], { directories: true }), () => join(dir, name), inlineMax);

describe("layers", () => {
  test("a small layer stays in memory; the same layer as a file has the same bytes and restores the same", async () => {
    const inMemory = layerOf(src, "never-written.tar", 1 << 20);
    const asFile = layerOf(src, "l.tar");
    expect("bytes" in inMemory && !("file" in inMemory)).toBe(true);
    expect(() => readFileSync(join(dir, "never-written.tar"))).toThrow();
    const bytes = (inMemory as { bytes: Buffer }).bytes;
    expect(bytes.equals(readFileSync(join(dir, "l.tar")))).toBe(true);
    expect([inMemory.digest, inMemory.size]).toEqual([digestBytes(bytes), bytes.length]);
    expect(asFile).toMatchObject({ file: join(dir, "l.tar"), digest: inMemory.digest, size: inMemory.size });
    expect(await extractLayer(bytes, dst, inMemory.entries)).toEqual({ ok: true });
    for (const entry of inMemory.entries) {
      expect(lstatSync(join(dst, entry.path)).mode).toBe(lstatSync(join(src, entry.path)).mode);
      if (entry.type === "file") expect(readFileSync(join(dst, entry.path))).toEqual(readFileSync(join(src, entry.path)));
    }
  });

  test("a layer that outgrows the in-memory limit goes to its file whole", async () => {
    writeFileSync(join(src, "out/big.bin"), Buffer.alloc(300_000, 7));
    const layer = layerOf(src, "big.tar", 64 * 1024);
    expect(layer).toMatchObject({ file: join(dir, "big.tar") });
    const bytes = readFileSync(join(dir, "big.tar"));
    expect([digestBytes(bytes), bytes.length]).toEqual([layer.digest, layer.size]);
    expect(await extractLayer(join(dir, "big.tar"), dst, layer.entries)).toEqual({ ok: true });
    expect(readFileSync(join(dst, "out/big.bin")).equals(Buffer.alloc(300_000, 7))).toBe(true);
  });

  test("restore keeps contents, modes, symlinks (to files, directories, or nothing) and empty directories", async () => {
    const layer = layerOf(src, "l.tar");
    expect(await extractLayer(join(dir, "l.tar"), dst, layer.entries)).toEqual({ ok: true });
    for (const entry of layer.entries) {
      const a = lstatSync(join(src, entry.path));
      const b = lstatSync(join(dst, entry.path));
      expect([entry.path, b.mode]).toEqual([entry.path, a.mode]);
      if (entry.type === "symlink") expect(readlinkSync(join(dst, entry.path))).toBe(readlinkSync(join(src, entry.path)));
      if (entry.type === "file") expect(readFileSync(join(dst, entry.path))).toEqual(readFileSync(join(src, entry.path)));
    }
    expect(layer.entries.map((e) => `${e.type} ${e.path}`)).toEqual([
      "file out/a.txt",
      `dir out/deep`,
      `file out/deep/${"x".repeat(120)}.txt`,
      "symlink out/dirlink",
      "dir out/empty",
      "symlink out/link",
      "file out/run.sh",
      "file out/résumé ñ.txt",
    ]);
  });

  test("restore sets modes the umask would mask, and copies a file too big to hold whole, exactly", async () => {
    writeFileSync(join(src, "out/shared.txt"), "for everyone\n");
    chmodSync(join(src, "out/shared.txt"), 0o666);
    writeFileSync(join(src, "out/tool"), "#!/bin/sh\n");
    chmodSync(join(src, "out/tool"), 0o2755);
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 9);
    writeFileSync(join(src, "out/big.bin"), big);
    const layer = layerOf(src, "l.tar");
    const umask = process.umask(0o077);
    try {
      expect(await extractLayer(join(dir, "l.tar"), dst, layer.entries)).toEqual({ ok: true });
    } finally {
      process.umask(umask);
    }
    expect(lstatSync(join(dst, "out/shared.txt")).mode & 0o7777).toBe(0o666);
    expect(lstatSync(join(dst, "out/tool")).mode & 0o7777).toBe(0o2755);
    expect(lstatSync(join(dst, "out/a.txt")).mode & 0o7777).toBe(0o640);
    expect(readFileSync(join(dst, "out/big.bin")).equals(big)).toBe(true);
    expect(readdirSync(join(dst, "out")).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  test("a file too big to hold whole whose bytes do not match is refused and leaves no file", async () => {
    writeFileSync(join(src, "out/big.bin"), Buffer.alloc(2 * 1024 * 1024, 1));
    const layer = layerOf(src, "l.tar");
    const tar = readFileSync(join(dir, "l.tar"));
    tar[tar.indexOf(Buffer.alloc(64, 1)) + 1024 * 1024 + 3] = 2;
    writeFileSync(join(dir, "bad.tar"), tar);
    const big = layer.entries.find((e) => e.path === "out/big.bin")!;
    expect(await extractLayer(join(dir, "bad.tar"), dst, [big])).toEqual({ ok: false, problem: "out/big.bin: its bytes in the layer do not match the manifest" });
    expect(readdirSync(join(dst, "out"))).toEqual([]);
  });

  test("the same outputs make the same bytes, whatever their mtimes", async () => {
    const first = layerOf(src, "one.tar");
    utimesSync(join(src, "out/a.txt"), new Date(2011, 1, 1), new Date(2011, 1, 1));
    const second = layerOf(src, "two.tar");
    expect(second.digest).toBe(first.digest);
    expect(manifestDigest(second.entries)).toBe(manifestDigest(first.entries));
    expect(digestBytes(readFileSync(join(dir, "one.tar")))).toBe(first.digest);
  });

  test("a changed mode changes the layer and its manifest digest", async () => {
    const first = layerOf(src, "one.tar");
    chmodSync(join(src, "out/a.txt"), 0o644);
    const second = layerOf(src, "two.tar");
    expect(second.digest).not.toBe(first.digest);
    expect(manifestDigest(second.entries)).not.toBe(manifestDigest(first.entries));
  });

  test("never writes through a symbolic link in the workspace", async () => {
    const layer = layerOf(src, "l.tar");
    const outside = join(dir, "outside");
    mkdirSync(outside);
    symlinkSync(outside, join(dst, "out"));
    const result = await extractLayer(join(dir, "l.tar"), dst, layer.entries);
    expect(result).toEqual({ ok: false, problem: `out/a.txt: its parent ${dst}/out is a symbolic link` });
    expect(expandGlobs(outside, ["**"])).toEqual([]);
  });

  test("refuses a manifest path that leaves the workspace", async () => {
    const layer = layerOf(src, "l.tar");
    const evil = { ...layer.entries[0]!, path: "../escape.txt" };
    expect(await extractLayer(join(dir, "l.tar"), dst, [evil])).toEqual({ ok: false, problem: '"../escape.txt" is not a path inside the workspace' });
  });

  test("bytes that do not match the manifest are refused and leave no partial file", async () => {
    const layer = layerOf(src, "l.tar");
    const tar = readFileSync(join(dir, "l.tar"));
    const at = tar.indexOf("hello\n");
    tar[at] = "j".charCodeAt(0);
    writeFileSync(join(dir, "bad.tar"), tar);
    const a = layer.entries.find((e) => e.path === "out/a.txt")!;
    expect(await extractLayer(join(dir, "bad.tar"), dst, [a])).toEqual({ ok: false, problem: "out/a.txt: its bytes in the layer do not match the manifest" });
    expect(expandGlobs(dst, ["**"])).toEqual([]);
  });

  test("a truncated archive is refused", async () => {
    const layer = layerOf(src, "l.tar");
    writeFileSync(join(dir, "short.tar"), readFileSync(join(dir, "l.tar")).subarray(0, 700));
    const result = await extractLayer(join(dir, "short.tar"), dst, layer.entries);
    expect(result.ok).toBe(false);
  });
});

describe("headers rbuild encodes itself", () => {
  const { Header } = createRequire(import.meta.url)("tar/header") as { Header: typeof TarHeader };
  const byTar = (entry: Parameters<typeof encodeSimpleHeader>[1]): Buffer => {
    const block = Buffer.alloc(512);
    new Header({ uid: 0, gid: 0, uname: "", gname: "", mtime: new Date(0), ...entry }).encode(block);
    return block;
  };

  test.each([
    { path: "pkgs/p1/out.txt", type: "File", mode: 0o644, size: 33 },
    { path: "bin/tool", type: "File", mode: 0o4755, size: 0 },
    { path: `${"d/".repeat(49)}x`, type: "File", mode: 0o600, size: 0o77777777777 },
    { path: "out/", type: "Directory", mode: 0o750, size: 0 },
    { path: "out/link", type: "SymbolicLink", mode: 0o777, size: 0, linkpath: "../node_modules/pkg" },
  ] as const)("are the tar package's bytes: %j", (entry) => {
    const block = Buffer.alloc(512);
    expect(encodeSimpleHeader(block, entry)).toBe(true);
    expect(block.equals(byTar(entry))).toBe(true);
  });

  test.each([
    { path: `out/${"x".repeat(96)}`, type: "File", mode: 0o644, size: 1 },
    { path: "out/résumé.txt", type: "File", mode: 0o644, size: 1 },
    { path: "out/link", type: "SymbolicLink", mode: 0o777, size: 0, linkpath: "ünï" },
    { path: "out/huge", type: "File", mode: 0o644, size: 0o77777777777 + 1 },
  ] as const)("are left to the tar package when they need more: %j", (entry) => {
    expect(encodeSimpleHeader(Buffer.alloc(512), entry)).toBe(false);
  });
});
