/**
 * `rbuild init` on a hostile turbo.json (issue 20, N3): its text reaches the
 * Buildfile only as string literals and as comments it cannot break out of,
 * so `rbuild list` runs none of it.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

/** Code that leaves the file `marker` behind if it ever runs. */
const payload = (marker: string): string => `await import("node:fs").then((fs) => fs.writeFileSync(${JSON.stringify(marker)}, ""));`;

/** Names rbuild can take as they are, each made of what quoting gets wrong. */
const ODD_NAMES = ["a*/b", "tick`${globalThis.x}`", `q"u'o\\`];
/** Names no rbuild task can have (a line break): left out with a note. */
const NEWLINE_NAME = `nl\n${payload("pwned-name")}\n//`;
const U2028_NAME = `ls\u2028${payload("pwned-name-u2028")}\u2028//`;

const TURBO = {
  tasks: {
    build: {
      description: `Build.\n${payload("pwned-description")}\n// and a */ too`,
      dependsOn: ["^build", `^gone\u2029${payload("pwned-depends-on")}\u2029//`],
      outputs: ["dist/**"],
      [`odd\r${payload("pwned-key")}\r//`]: true,
    },
    [ODD_NAMES[0]!]: { description: `Odd.\u2028${payload("pwned-u2028")}\u2028//` },
    [ODD_NAMES[1]!]: { dependsOn: ["build"] },
    [ODD_NAMES[2]!]: {},
    [NEWLINE_NAME]: {},
    [U2028_NAME]: {},
  },
  [`root\n${payload("pwned-root-key")}\n//`]: true,
};

const scripts = Object.fromEntries(["build", ...ODD_NAMES, NEWLINE_NAME, U2028_NAME].map((name) => [name, "true"]));

const ROOT_PACKAGE = JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"] });

describe("rbuild init on a hostile turbo.json", () => {
  test("20.N3: a description with a line break stays a comment: `rbuild list` does not run the rest of it", async () => {
    const ws = testWorkspace({
      "package.json": ROOT_PACKAGE,
      "packages/p/package.json": JSON.stringify({ name: "p", version: "1.0.0", scripts: { build: "true" } }),
      "turbo.json": JSON.stringify({ tasks: { build: { description: `Build.\n${payload("pwned")}\n//` } } }),
    });
    expect((await ws.run(["init"])).exitCode).toBe(0);
    expect(await ws.run(["list"])).toEqual({ exitCode: 0, stdout: "p#build\nbuild    group  deps: p#build\n", stderr: "" });
    expect(existsSync(join(ws.root, "pwned"))).toBe(false);
  });

  test("20.N3: line breaks (\\n, \\r, U+2028, U+2029), */, backticks, ${}, quotes: the Buildfile loads, declares exactly those names, and runs none of the text", async () => {
    const ws = testWorkspace({
      "package.json": ROOT_PACKAGE,
      "packages/p/package.json": JSON.stringify({ name: "p", version: "1.0.0", scripts }),
      "turbo.json": JSON.stringify(TURBO, null, 2),
    });
    const init = await ws.run(["init"]);
    expect(init.exitCode).toBe(0);
    // Every line of the text is a comment, or code made of string literals: read as lines, as a person does.
    expect(ws.read("Buildfile.ts").split("\n")).toEqual([
      "// Written by `rbuild init` from turbo.json: each task runs one script in every package that has it.",
      "// Read the `rbuild init:` notes, then run `rbuild build`.",
      "import { scripts, task } from \"rbuild\";",
      "",
      "// rbuild init: root\\nawait import(\"node:fs\").then((fs) => fs.writeFileSync(\"pwned-root-key\", \"\"));\\n// not translated: it is not a turbo.json setting rbuild init knows",
      "",
      "// Build.\\nawait import(\"node:fs\").then((fs) => fs.writeFileSync(\"pwned-description\", \"\"));\\n// and a */ too",
      "// rbuild init: dependsOn \"^gone\\u2029await import(\\\"node:fs\\\").then((fs) => fs.writeFileSync(\\\"pwned-depends-on\\\", \\\"\\\"));\\u2029//\" not translated: the Buildfile declares no \"gone\\u2029await import(\"node:fs\").then((fs) => fs.writeFileSync(\"pwned-depends-on\", \"\"));\\u2029//\" tasks (see the note on it)",
      "// rbuild init: odd\\rawait import(\"node:fs\").then((fs) => fs.writeFileSync(\"pwned-key\", \"\"));\\r// not translated: it is not a turbo task setting rbuild init knows",
      "export const build = task({",
      "  name: \"build\",",
      "  deps: scripts(\"build\", { deps: [\"^build\"], outputs: [\"dist/**\"] }),",
      "});",
      "",
      "// Odd.\\u2028await import(\"node:fs\").then((fs) => fs.writeFileSync(\"pwned-u2028\", \"\"));\\u2028//",
      "export const aB = task({ name: \"a*/b\", deps: scripts(\"a*/b\") });",
      "",
      "export const tick$GlobalThisX = task({",
      "  name: \"tick`${globalThis.x}`\",",
      "  deps: scripts(\"tick`${globalThis.x}`\", { deps: [\"build\"] }),",
      "});",
      "",
      "export const qUO = task({ name: \"q\\\"u'o\\\\\", deps: scripts(\"q\\\"u'o\\\\\") });",
      "",
      "// rbuild init: \"nl\\nawait import(\\\"node:fs\\\").then((fs) => fs.writeFileSync(\\\"pwned-name\\\", \\\"\\\"));\\n//\" not translated: an rbuild task's name must not contain whitespace or control characters; rename the task (and its scripts)",
      "",
      "// rbuild init: \"ls\\u2028await import(\\\"node:fs\\\").then((fs) => fs.writeFileSync(\\\"pwned-name-u2028\\\", \\\"\\\"));\\u2028//\" not translated: an rbuild task's name must not contain whitespace or control characters; rename the task (and its scripts)",
      "",
    ]);
    // Exactly the names given: each package script task, and the group over it.
    const [odd, tick, quotes] = ODD_NAMES as [string, string, string];
    const row = (name: string, notes = ""): string => (notes === "" ? `${name}\n` : `${name.padEnd(`p#${tick}`.length)}  ${notes}\n`);
    const tasks = [
      row("p#build"),
      row("build", "group  deps: p#build"),
      row(`p#${odd}`),
      row(odd, `group  deps: p#${odd}`),
      row(`p#${tick}`, "deps: p#build"),
      row(tick, `group  deps: p#${tick}`),
      row(`p#${quotes}`),
      row(quotes, `group  deps: p#${quotes}`),
    ];
    expect(await ws.run(["list"])).toEqual({ exitCode: 0, stdout: tasks.join(""), stderr: "" });
    expect(readdirSync(ws.root).filter((name) => name.startsWith("pwned"))).toEqual([]);
  });
});
