import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { digestBytes, expandGlobs } from "@rbuild/hash";
import { createRequire } from "node:module";
import type { Header as TarHeader } from "tar/header";
import { encodeSimpleHeader, manifestDigest, writeLayer } from "./layer.js";
import { extractLayer } from "./extract-layer.js";

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
    // A directory the layer does not list (the glob's base) is made as mkdir makes it.
    expect(lstatSync(join(dst, "out")).mode & 0o7777).toBe(0o777 & ~process.umask());
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
    expect(readdirSync(dst)).toEqual([]);
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

  /** Every entry under `root`, directories included, with its type and mode. */
  const tree = (root: string) => expandGlobs(root, ["**"], { directories: true }).map((path) => `${path} ${lstatSync(join(root, path)).mode.toString(8)}`);

  test.each([
    ["an absolute path", "/etc/passwd"],
    ["a path that climbs out", "../../../etc/passwd"],
    ["a path that climbs out after going down", "sub/../../../etc"],
    ["a path that climbs from a name, which may be a link", "../out/../.."],
  ])("20.2: a link to %s is refused, and nothing of the layer is written", async (_kind, target) => {
    mkdirSync(join(src, "out/sub"));
    symlinkSync(target, join(src, "out/sub/passwd"));
    const layer = layerOf(src, "l.tar");
    writeFileSync(join(dst, "keep.txt"), "mine\n");
    const before = tree(dst);
    const result = await extractLayer(join(dir, "l.tar"), dst, layer.entries);
    expect(result).toEqual({ ok: false, problem: `out/sub/passwd: its link target ${JSON.stringify(target)} is outside the workspace` });
    expect(tree(dst)).toEqual(before);
  });

  test("20.2: links that stay inside the workspace are restored, from a directory below too", async () => {
    mkdirSync(join(src, "out/sub"));
    symlinkSync("../a.txt", join(src, "out/sub/up"));
    symlinkSync("../../top.txt", join(src, "out/sub/top"));
    symlinkSync("./../sub/./", join(src, "out/sub/self"));
    const layer = layerOf(src, "l.tar");
    writeFileSync(join(dst, "top.txt"), "top\n");
    expect(await extractLayer(join(dir, "l.tar"), dst, layer.entries)).toEqual({ ok: true });
    expect(readFileSync(join(dst, "out/sub/up"), "utf8")).toBe("hello\n");
    expect(readFileSync(join(dst, "out/sub/top"), "utf8")).toBe("top\n");
    expect([readlinkSync(join(dst, "out/sub/self")), readlinkSync(join(dst, "out/dirlink"))]).toEqual(["./../sub/./", "../node_modules/pkg"]);
  });

  test.each([
    ["a link the workspace already has", ["ws-link -> /etc"], [], "../ws-link/passwd"],
    ["a link of the workspace to a link of the workspace", ["ws-link -> hop", "hop -> /etc"], [], "../ws-link/passwd"],
    ["a link of the layer into a directory of the workspace that holds a link out", ["real/evil -> /etc"], ["out/l -> ../real"], "l/evil/passwd"],
    ["a link of the workspace that climbs out", ["up -> .."], [], "../up/outside"],
  ])("20.2: a link that leads outside through %s is refused, and nothing of the layer is written", async (_kind, workspaceLinks, layerLinks, target) => {
    for (const [links, root] of [[workspaceLinks, dst], [layerLinks, src]] as const) {
      for (const link of links) {
        const [path, to] = link.split(" -> ") as [string, string];
        mkdirSync(dirname(join(root, path)), { recursive: true });
        symlinkSync(to, join(root, path));
      }
    }
    symlinkSync(target, join(src, "out/passwd"));
    const layer = layerOf(src, "l.tar");
    const before = tree(dst);
    const result = await extractLayer(join(dir, "l.tar"), dst, layer.entries);
    expect(result).toEqual({ ok: false, problem: `out/passwd: its link target ${JSON.stringify(target)} leads outside the workspace through a link on the way` });
    expect(tree(dst)).toEqual(before);
  });

  test("20.2: links through links that stay inside are restored: the workspace's, the layer's, and one the layer replaces", async () => {
    mkdirSync(join(dst, "real"));
    writeFileSync(join(dst, "real/f.txt"), "real\n");
    symlinkSync("real", join(dst, "ws-link"));
    symlinkSync(join(dst, "real"), join(dst, "abs-link"));
    // The layer's directory "out/sub" replaces the workspace's link out.
    mkdirSync(join(dst, "out"));
    symlinkSync("/etc", join(dst, "out/sub"));
    mkdirSync(join(src, "out/sub"));
    symlinkSync("../ws-link/f.txt", join(src, "out/via-ws"));
    symlinkSync("../abs-link/f.txt", join(src, "out/via-abs"));
    symlinkSync("link", join(src, "out/via-layer"));
    symlinkSync("sub/passwd", join(src, "out/into-sub"));
    const layer = layerOf(src, "l.tar");
    expect(await extractLayer(join(dir, "l.tar"), dst, layer.entries)).toEqual({ ok: true });
    expect(["out/via-ws", "out/via-abs", "out/via-layer"].map((path) => readFileSync(join(dst, path), "utf8"))).toEqual(["real\n", "real\n", "hello\n"]);
    expect(lstatSync(join(dst, "out/sub")).isDirectory()).toBe(true);
  });

  test("20.2: a layer refused at its last entry leaves the workspace exactly as it was", async () => {
    writeFileSync(join(src, "out/zz.txt"), "last\n");
    const layer = layerOf(src, "l.tar");
    const tar = readFileSync(join(dir, "l.tar"));
    tar[tar.indexOf("last\n")] = "L".charCodeAt(0);
    writeFileSync(join(dir, "bad.tar"), tar);
    // Some of it is there already, edited or with another mode: it too must stay as it is.
    mkdirSync(join(dst, "out"), { mode: 0o700 });
    chmodSync(join(dst, "out"), 0o700);
    writeFileSync(join(dst, "out/a.txt"), "edited\n");
    const before = tree(dst);
    expect(layer.entries.at(-1)!.path).toBe("out/zz.txt");
    expect(await extractLayer(join(dir, "bad.tar"), dst, layer.entries)).toEqual({ ok: false, problem: "out/zz.txt: its bytes in the layer do not match the manifest" });
    expect(tree(dst)).toEqual(before);
    expect(readFileSync(join(dst, "out/a.txt"), "utf8")).toBe("edited\n");
  });

  test("20.2: an entry below a link or a file of the same layer is refused before anything is written", async () => {
    const layer = layerOf(src, "l.tar");
    const a = layer.entries.find((e) => e.path === "out/a.txt")!;
    const link = layer.entries.find((e) => e.path === "out/link")!;
    const below = { ...a, path: "out/link/a.txt" };
    expect(await extractLayer(join(dir, "l.tar"), dst, [a, link, below])).toEqual({ ok: false, problem: `out/link/a.txt: its parent ${dst}/out/link is not a directory in the layer` });
    expect(readdirSync(dst)).toEqual([]);
  });

  test("directories get their modes after their contents: a 000 or 0555 directory is restored with what it holds (see 20.10 in restore-safety.e2e.test.ts)", async () => {
    mkdirSync(join(src, "out/locked"));
    writeFileSync(join(src, "out/locked/f.txt"), "inside\n");
    mkdirSync(join(src, "out/ro"));
    writeFileSync(join(src, "out/ro/g.txt"), "read only\n");
    chmodSync(join(src, "out/locked"), 0o000);
    chmodSync(join(src, "out/ro"), 0o555);
    const layer = layerOf(src, "l.tar");
    expect(await extractLayer(join(dir, "l.tar"), dst, layer.entries)).toEqual({ ok: true });
    expect([lstatSync(join(dst, "out/locked")).mode & 0o7777, lstatSync(join(dst, "out/ro")).mode & 0o7777]).toEqual([0o000, 0o555]);
    // Once more over what is there, with one file changed: the directories are opened up and closed again.
    writeFileSync(join(src, "out/zz.txt"), "new\n");
    chmodSync(join(dst, "out/ro"), 0o755);
    writeFileSync(join(dst, "out/ro/g.txt"), "edited\n");
    chmodSync(join(dst, "out/ro"), 0o555);
    const again = layerOf(src, "l2.tar");
    const changed = again.entries.filter((e) => e.path === "out/ro/g.txt" || e.path === "out/zz.txt");
    expect(await extractLayer(join(dir, "l2.tar"), dst, changed)).toEqual({ ok: true });
    expect(lstatSync(join(dst, "out/ro")).mode & 0o7777).toBe(0o555);
    chmodSync(join(src, "out/locked"), 0o755);
    chmodSync(join(dst, "out/locked"), 0o755);
    expect([readFileSync(join(dst, "out/locked/f.txt"), "utf8"), readFileSync(join(dst, "out/ro/g.txt"), "utf8")]).toEqual(["inside\n", "read only\n"]);
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
