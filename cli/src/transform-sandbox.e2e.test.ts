/** Transform layers under the sandbox and container runners (issue 27.3, found by an independent run). */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { busyboxRootfs, tarOf, writeOciLayout } from "../../test-support/oci-image.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

/** Every file under `dir` with its contents; directories end in "/". */
function tree(dir: string): string[] {
  const lines: string[] = [];
  const walk = (at: string, prefix: string): void => {
    for (const name of readdirSync(at).sort()) {
      const full = join(at, name);
      if (lstatSync(full).isDirectory()) {
        lines.push(`${prefix}${name}/`);
        walk(full, `${prefix}${name}/`);
      } else lines.push(`${prefix}${name} ${JSON.stringify(readFileSync(full, "utf8"))}`);
    }
  };
  walk(dir, "");
  return lines;
}

/** A base that writes a tree, and a transform of it that deletes a file and a directory, changes one and adds one. */
function buildfile(runner: string): string {
  return `import { task } from "rbuild";
const base = task({ name: "base", inputs: ["src/**"], outputs: ["tree/**"],${runner}
  run: "mkdir -p tree/gone && cp src/*.txt tree/ && echo g > tree/gone/g.txt" });
task({ name: "s1", deps: [base], transform: base, outputs: ["tree/**"],${runner}
  run: "rm tree/a.txt && rm -r tree/gone && echo changed > tree/b.txt && echo new > tree/n.txt" });
`;
}

const S1_TREE = ['b.txt "changed\\n"', 'n.txt "new\\n"'];

async function deletesAndChanges(ws: Workspace, args: string[]): Promise<void> {
  expect(await ws.run(["s1", ...args])).toEqual({ exitCode: 0, stdout: "> base\n✓ base (<t>)\n> s1\n✓ s1 (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
  expect(tree(join(ws.root, "tree"))).toEqual(S1_TREE);
  // Its layer holds the deletions: restored after rm -rf, the tree is the same.
  rmSync(join(ws.root, "tree"), { recursive: true });
  expect(await ws.run(["s1", ...args])).toEqual({ exitCode: 0, stdout: "✓ base (cached, local)\n✓ s1 (cached, local)\n", stderr: "rbuild: ok: 0 ran, 2 cached in <t>\n" });
  expect(tree(join(ws.root, "tree"))).toEqual(S1_TREE);
}

test("27.3: in the sandbox (runner: \"sandbox\", or --sandbox), a transform deletes and changes files of its base's outputs", async () => {
  const ws = testWorkspace({ "Buildfile.ts": buildfile(` runner: "sandbox",`), "src/a.txt": "a\n", "src/b.txt": "b\n" });
  await deletesAndChanges(ws, []);
  // --sandbox puts a transform in the sandbox too: its undeclared read fails there.
  const flag = testWorkspace({ "Buildfile.ts": buildfile(""), "src/a.txt": "a\n", "src/b.txt": "b\n" });
  await deletesAndChanges(flag, ["--sandbox"]);
  flag.write({ "Buildfile.ts": buildfile("").replace("rm tree/a.txt", "cat src/a.txt && rm tree/a.txt") });
  expect(await flag.run(["s1", "--sandbox"])).toEqual({
    exitCode: 1,
    stdout: "✓ base (cached, local)\n> s1\n✗ s1 (<t>)\n",
    stderr:
      "[s1] cat: src/a.txt: No such file or directory\n" +
      'error: Task "s1" read src/a.txt, which is not among its inputs or its deps\' outputs: in its sandbox it is missing, and it exited with code 1. ' +
      'Add "src/a.txt" to its `inputs` (or make the task that writes it one of its deps).\n' +
      "rbuild: failed: 0 ran, 1 cached, 1 failed in <t>\n",
  });
});

test("27.3: in a container image, a transform deletes and changes files of its base's outputs", async () => {
  const ws = testWorkspace({ "Buildfile.ts": buildfile(` runner: { image: "images/busybox" },`), "src/a.txt": "a\n", "src/b.txt": "b\n" });
  const rootfs = busyboxRootfs(mkdtempSync(join(tmpdir(), "rbuild-rootfs-")), {});
  writeOciLayout(join(ws.root, "images/busybox"), [tarOf(rootfs)], []);
  rmSync(rootfs, { recursive: true, force: true });
  await deletesAndChanges(ws, []);
});

test("27.3: in the sandbox, a transform's change of mode, of a link's target and deletion of a link are its outputs", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";
const base = task({ name: "base", outputs: ["tree/**"], run: "mkdir -p tree && echo m > tree/m.txt && ln -s m.txt tree/l && ln -s m.txt tree/k" });
task({ name: "s1", deps: [base], transform: base, outputs: ["tree/**"], run: "chmod 600 tree/m.txt && ln -sfn gone.txt tree/l && rm tree/k" });
`,
  });
  const state = (): string[] => [`${(lstatSync(join(ws.root, "tree/m.txt")).mode & 0o777).toString(8)}`, ...readdirSync(join(ws.root, "tree")).sort().map((name) => (lstatSync(join(ws.root, "tree", name)).isSymbolicLink() ? `${name} -> ${readlinkSync(join(ws.root, "tree", name))}` : name))];
  expect(await ws.run(["s1", "--sandbox"])).toEqual({ exitCode: 0, stdout: "> base\n✓ base (<t>)\n> s1\n✓ s1 (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
  expect(state()).toEqual(["600", "l -> gone.txt", "m.txt"]);
  rmSync(join(ws.root, "tree"), { recursive: true });
  expect((await ws.run(["s1", "--sandbox"])).stderr).toBe("rbuild: ok: 0 ran, 2 cached in <t>\n");
  expect(state()).toEqual(["600", "l -> gone.txt", "m.txt"]);
});

test("27.3: under --sandbox, a task that removes the directory its outputs live under is told what works instead", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "copy", inputs: ["seed/**"], outputs: ["tree/**"], run: "rm -rf tree && cp -r seed tree" });\n`,
    "seed/a.txt": "a\n",
    "seed/sub/b.txt": "b\n",
  });
  expect(await ws.run(["copy", "--sandbox"])).toEqual({
    exitCode: 1,
    stdout: "> copy\n✗ copy (<t>)\n",
    stderr:
      "[copy] rm: cannot remove 'tree': Read-only file system\n" +
      'error: Task "copy" could not remove or replace tree: in its sandbox that directory is where its outputs are written, and it stays. ' +
      "Empty it and write into it instead (`mkdir -p tree && find tree -mindepth 1 -delete`, then, say, `cp -R <from>/. tree/`), or run the task outside the sandbox (`runner: \"local\"`).\n" +
      "rbuild: failed: 0 ran, 0 cached, 1 failed in <t>\n",
  });
  // What the message says works.
  ws.write({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "copy", inputs: ["seed/**"], outputs: ["tree/**"], run: "mkdir -p tree && find tree -mindepth 1 -delete && cp -R seed/. tree/" });\n` });
  expect(await ws.run(["copy", "--sandbox"])).toEqual({ exitCode: 0, stdout: "> copy\n✓ copy (<t>)\n", stderr: "rbuild: ok: 1 ran, 0 cached in <t>\n" });
  expect(tree(join(ws.root, "tree"))).toEqual(['a.txt "a\\n"', "sub/", 'sub/b.txt "b\\n"']);
});

test.each([["--sandbox"], []])("27.3: a transform (%s) replaces a file of its base's with a directory, and a directory with a file", async (...args: string[]) => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";
const base = task({ name: "base", outputs: ["tree/**"], run: "mkdir -p tree/d && echo x > tree/x && echo y > tree/d/y" });
task({ name: "s1", deps: [base], transform: base, outputs: ["tree/**"], run: "rm tree/x && mkdir tree/x && echo in > tree/x/in && rm -r tree/d && echo d > tree/d" });
`,
  });
  const want = ['d "d\\n"', "x/", 'x/in "in\\n"'];
  expect(await ws.run(["s1", ...args])).toEqual({ exitCode: 0, stdout: "> base\n✓ base (<t>)\n> s1\n✓ s1 (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
  expect(tree(join(ws.root, "tree"))).toEqual(want);
  rmSync(join(ws.root, "tree"), { recursive: true });
  expect((await ws.run(["s1", ...args])).stderr).toBe("rbuild: ok: 0 ran, 2 cached in <t>\n");
  expect(tree(join(ws.root, "tree"))).toEqual(want);
});
