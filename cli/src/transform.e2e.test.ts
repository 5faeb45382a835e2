import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testCacheServer } from "./test-support/cache-server.js";
import { testWorkspace, type Workspace } from "./test-support/workspace.js";

// A base tree and two transforms of it: each changes, adds and deletes (a file, a whole directory), and one changes a mode.
const BUILDFILE = `import { task } from "rbuild";
const base = task({ name: "base", inputs: ["src/**"], outputs: ["tree/**"],
  run: "echo run >> base.count; mkdir -p tree/sub tree/gone && cp src/*.txt tree/ && echo keep > tree/sub/keep.txt && echo g > tree/gone/g.txt && echo del > tree/del.txt && ln -s a.txt tree/link" });
const step1 = task({ name: "step1", deps: [base], transform: base, outputs: ["tree/**"],
  run: "echo run >> step1.count; echo changed > tree/a.txt && rm tree/del.txt && rm -r tree/gone && echo new > tree/sub/new.txt" });
task({ name: "step2", deps: [step1], transform: "step1", outputs: ["tree/**"],
  run: "echo run >> step2.count; rm tree/sub/keep.txt && echo added > tree/added.txt && chmod 600 tree/b.txt" });
`;

function workspace(): Workspace {
  return testWorkspace({ "Buildfile.ts": BUILDFILE, "src/a.txt": "alpha\n", "src/b.txt": "beta\n" });
}

/** Every entry under `dir`: path, type, mode and contents (or link target). */
function snapshot(dir: string): string[] {
  const lines: string[] = [];
  const walk = (at: string, prefix: string): void => {
    for (const name of readdirSync(at).sort()) {
      const full = join(at, name);
      const stat = lstatSync(full);
      const path = `${prefix}${name}`;
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) lines.push(`${path} -> ${readlinkSync(full)}`);
      else if (stat.isDirectory()) {
        lines.push(`${path}/ ${mode}`);
        walk(full, `${path}/`);
      } else lines.push(`${path} ${mode} ${JSON.stringify(readFileSync(full, "utf8"))}`);
    }
  };
  walk(dir, "");
  return lines;
}

const FINAL_TREE = [
  'a.txt 644 "changed\\n"',
  'added.txt 644 "added\\n"',
  'b.txt 600 "beta\\n"',
  "link -> a.txt",
  "sub/ 755",
  'sub/new.txt 644 "new\\n"',
];

const runs = (ws: Workspace, name: string): number => (existsSync(join(ws.root, `${name}.count`)) ? ws.read(`${name}.count`).split("\n").filter(Boolean).length : 0);

async function statuses(ws: Workspace, args: string[]): Promise<string[][]> {
  const result = await ws.run([...args, "--summary", "s.json"]);
  expect(result.stderr).not.toMatch(/error|dropped/);
  return (JSON.parse(ws.read("s.json")) as { tasks: { name: string; status: string; cache: string | null }[] }).tasks.map((t) => [t.name, t.status, t.cache ?? "-"]);
}

/** The entries of an uncompressed ustar archive: name (with its prefix), type flag and size. */
function tarEntries(bytes: Buffer): string[] {
  const entries: string[] = [];
  for (let at = 0; at + 512 <= bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, length: number): string => header.toString("latin1", from, from + length).replace(/\0.*$/s, "");
    const prefix = field(345, 155);
    const name = `${prefix === "" ? "" : `${prefix}/`}${field(0, 100)}`;
    const size = parseInt(field(124, 12).trim() || "0", 8);
    entries.push(`${String.fromCharCode(header[156]!)} ${name} ${size}`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

describe("transform layers", () => {
  test("27.3: a transform chain builds, and after rm -rf of its outputs restores a byte-identical tree, deletions included", async () => {
    const ws = workspace();
    expect(await statuses(ws, ["step2"])).toEqual([["base", "ran", "-"], ["step1", "ran", "-"], ["step2", "ran", "-"]]);
    expect(snapshot(join(ws.root, "tree"))).toEqual(FINAL_TREE);

    rmSync(join(ws.root, "tree"), { recursive: true, force: true });
    expect(await statuses(ws, ["step2"])).toEqual([["base", "cached", "local"], ["step1", "cached", "local"], ["step2", "cached", "local"]]);
    expect(snapshot(join(ws.root, "tree"))).toEqual(FINAL_TREE);
    // A build with nothing changed leaves the same tree: what the dep's restore puts back, the transforms delete again.
    await statuses(ws, ["step2"]);
    expect(snapshot(join(ws.root, "tree"))).toEqual(FINAL_TREE);
    expect([runs(ws, "base"), runs(ws, "step1"), runs(ws, "step2")]).toEqual([1, 1, 1]);

    // A middle step alone restores its own tree: what step2 added goes, what it deleted comes back.
    expect(await statuses(ws, ["step1"])).toEqual([["base", "cached", "local"], ["step1", "cached", "local"]]);
    expect(snapshot(join(ws.root, "tree"))).toEqual(['a.txt 644 "changed\\n"', 'b.txt 644 "beta\\n"', "link -> a.txt", "sub/ 755", 'sub/keep.txt 644 "keep\\n"', 'sub/new.txt 644 "new\\n"']);

    // A change to the base runs every step again, each from the new base.
    ws.write({ "src/b.txt": "BETA\n" });
    expect(await statuses(ws, ["step2"])).toEqual([["base", "ran", "-"], ["step1", "ran", "-"], ["step2", "ran", "-"]]);
    expect(snapshot(join(ws.root, "tree"))).toEqual(FINAL_TREE.map((line) => line.replace('"beta\\n"', '"BETA\\n"')));
  });

  test("27.3: each transform's layer holds only what it changed, with a whiteout for each deletion; rbuild show lists the stack", async () => {
    const ws = workspace();
    await statuses(ws, ["step2"]);
    const out = join(ws.root, "image");
    expect((await ws.run(["export", "step2", "--oci", out])).exitCode).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "blobs/sha256", (JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] }).manifests[0]!.digest.slice(7)), "utf8")) as {
      layers: { digest: string }[];
    };
    const layers = manifest.layers.map((l) => tarEntries(readFileSync(join(out, "blobs/sha256", l.digest.slice(7)))));
    expect(layers).toEqual([
      ["0 tree/a.txt 6", "0 tree/b.txt 5", "0 tree/del.txt 4", "5 tree/gone/ 0", "0 tree/gone/g.txt 2", "2 tree/link 0", "5 tree/sub/ 0", "0 tree/sub/keep.txt 5"],
      ["0 tree/.wh.del.txt 0", "0 tree/.wh.gone 0", "0 tree/a.txt 8", "0 tree/sub/new.txt 4"],
      ["0 tree/added.txt 6", "0 tree/b.txt 5", "0 tree/sub/.wh.keep.txt 0"],
    ]);

    const show = await ws.run(["show", "step2"]);
    const stack = show.stdout.slice(show.stdout.indexOf("layers:")).split("\nlog:")[0]!;
    expect(stack.replace(/[0-9a-f]{64}/g, "<digest>")).toBe(
      'layers:   3, bottom first\n  <digest>  task "base"\n  <digest>  task "step1"\n  <digest>  this run (its difference)',
    );
    const json = JSON.parse((await ws.run(["show", "step2", "--json"])).stdout) as { outputs: { layers: { task: string }[] } };
    expect(json.outputs.layers.map((l) => l.task)).toEqual(["base", "step1", "step2"]);

    // --extract applies the whole stack.
    expect((await ws.run(["show", "step2", "--extract", "x"])).exitCode).toBe(0);
    expect(snapshot(join(ws.root, "x/tree"))).toEqual(FINAL_TREE);
  });

  test("27.3: a second workspace restores the chain through a real cache server, every layer of the stack shared", async () => {
    const server = await testCacheServer("rbuild-transform-server-");
    const first = workspace();
    await statuses(first, ["step2", "--remote", server.url]);
    const second = workspace();
    // Each step's entry lists its whole stack (remote-stack.test.ts); here each task is fetched in turn.
    expect(await statuses(second, ["step2", "--remote", server.url])).toEqual([["base", "cached", "remote"], ["step1", "cached", "remote"], ["step2", "cached", "remote"]]);
    expect(snapshot(join(second.root, "tree"))).toEqual(FINAL_TREE);
    expect([runs(second, "base"), runs(second, "step1"), runs(second, "step2")]).toEqual([0, 0, 0]);
    // Another base whose step1 comes out the same (step1 rewrites a.txt): step2 is shared, on top of this base's layers.
    const third = workspace().write({ "src/a.txt": "other\n" });
    expect(await statuses(third, ["step2", "--remote", server.url])).toEqual([["base", "ran", "-"], ["step1", "ran", "-"], ["step2", "cached", "remote"]]);
    expect(snapshot(join(third.root, "tree"))).toEqual(FINAL_TREE);
    // And a base whose changes survive every step: nothing of the chain is shared.
    const fourth = workspace().write({ "src/b.txt": "other\n" });
    expect(await statuses(fourth, ["step2", "--remote", server.url])).toEqual([["base", "ran", "-"], ["step1", "ran", "-"], ["step2", "ran", "-"]]);
    expect(snapshot(join(fourth.root, "tree"))).toEqual(FINAL_TREE.map((line) => line.replace('"beta\\n"', '"other\\n"')));
  });

  test("27.3: planning errors: a transform of a task that is not a dep, of an impure task, of a group, an impure transform", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
const base = task({ name: "base", outputs: ["t/**"], run: "mkdir -p t && echo > t/a" });
const deploy = task({ name: "deploy", pure: false, outputs: ["d/**"], run: "true" });
task({ name: "stray", transform: base, outputs: ["t/**"], run: "true" });
task({ name: "ofImpure", deps: [deploy], transform: deploy, outputs: ["d/**"], run: "true" });
task({ name: "impure", deps: [base], transform: "base", pure: false, outputs: ["t/**"], run: "true" });
task({ name: "grp", deps: [base] });
task({ name: "ofGroup", deps: ["grp"], transform: "grp", outputs: ["g/**"], run: "true" });
`,
    });
    const result = await ws.run(["stray"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.replace(/Buildfile\.ts:\d+:\d+/g, "Buildfile.ts:<line>")).toBe(
      'rbuild: error: Buildfile.ts:<line>: Task "stray": `transform` names "base", which is not one of its deps; add it to `deps` (a transform starts from a dep\'s outputs, so it runs after it)\n' +
        'rbuild: error: Buildfile.ts:<line>: Task "ofImpure": `transform` names "deploy", an impure task: its outputs are not kept as a result to build on. Make it pure, or leave out `transform`\n' +
        'rbuild: error: Buildfile.ts:<line>: Task "impure": `transform` is only for a pure task: an impure task keeps no action to record its layer stack in. Leave out `pure: false`, or `transform`\n' +
        'rbuild: error: Buildfile.ts:<line>: Task "ofGroup": `transform` names "grp", a group: it runs nothing and has no outputs to start from. Name the task whose outputs it should start from\n' +
        // Two transforms of the same dep would each rewrite the other's files.
        'rbuild: error: Buildfile.ts:<line>: Tasks "stray" and "impure" both declare t as an output ("stray" through "t/**", "impure" through "t/**"). Each would delete and store the other\'s files: narrow one of the globs, or leave the other task\'s files out with a "!" glob.\n',
    );
  });

  test("27.3: a cycle through transforms is the planner's cycle error", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
task({ name: "a", deps: ["b"], transform: "b", outputs: ["t/**"], run: "true" });
task({ name: "b", deps: ["a"], transform: "a", outputs: ["t/**"], run: "true" });
`,
    });
    const result = await ws.run(["a"]);
    expect([result.exitCode, result.stderr.replace(/Buildfile\.ts:\d+:\d+/g, "Buildfile.ts:<line>")]).toEqual([
      2,
      "rbuild: error: Buildfile.ts:<line>: Dependency cycle: a -> b -> a. A task cannot depend on itself, directly or through other tasks; remove one of these deps.\n",
    ]);
  });

  test("27.3: a transform whose outputs do not cover its dep's fails, naming the path", async () => {
    const ws = testWorkspace({
      "Buildfile.ts": `import { task } from "rbuild";
const base = task({ name: "base", outputs: ["t/**", "extra.txt"], run: "mkdir -p t && echo a > t/a && echo x > extra.txt" });
task({ name: "step", deps: [base], transform: base, outputs: ["t/**"], run: "echo b > t/b" });
`,
    });
    const result = await ws.run(["step"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'Task "step" did not start from the outputs of "base": its outputs do not match extra.txt, an output of "base": a transform works on its dep\'s outputs, so its `outputs` globs must match every one of them. Add a glob for it.',
    );
  });
});
