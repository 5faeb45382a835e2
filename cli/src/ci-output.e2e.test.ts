import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { expect, test } from "vitest";
import { testWorkspace } from "./test-support/workspace.js";

/** Durations anywhere (the table's column too) as <t>. */
const times = (text: string): string => text.replace(/\b(\d+ms|\d+\.\ds)\b/g, "<t>");

const BUILDFILE = `import { task } from "rbuild";
const a = task({ name: "a", run: "echo from a" });
task({ name: "b", deps: [a], run: "echo from b; echo careful >&2" });
task({ name: "broken", deps: [a], run: "echo compiling; echo 'src/x.ts(1,1): error TS1005: 100% wrong' >&2; exit 7" });
task({ name: "after-broken", deps: ["broken"], run: "echo never" });
`;

test("24.2: under GitHub Actions each task's output is a group, a failure an ::error annotation, and a table ends the build", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE });
  const result = await ws.run(["b", "after-broken", "-k", "-j", "1"], { env: { CI: "true", GITHUB_ACTIONS: "true" } });
  expect({ ...result, stdout: times(result.stdout), stderr: times(result.stderr) }).toEqual({
    exitCode: 1,
    stdout: [
      "> a",
      "::group::a",
      "from a",
      "::endgroup::",
      "✓ a (<t>)",
      "> broken",
      "::group::broken",
      "compiling",
      "src/x.ts(1,1): error TS1005: 100% wrong",
      "::endgroup::",
      "✗ broken (<t>)",
      "::error title=broken failed::src/x.ts(1,1): error TS1005: 100%25 wrong",
      "- after-broken skipped (dependency-failed: broken)",
      "> b",
      "::group::b",
      "from b",
      "careful",
      "::endgroup::",
      "✓ b (<t>)",
      "",
    ].join("\n"),
    stderr: [
      "task          status   cache  duration",
      "a             ran      -      <t>",
      "after-broken  skipped  -      -",
      "b             ran      -      <t>",
      "broken        failed   -      <t>",
      'error: Task "broken" failed: its command exited with code 7.',
      "rbuild: failed: 2 ran, 0 cached, 1 failed, 1 skipped in <t>",
      "",
    ].join("\n"),
  });
});

test("24.2: in CI (CI set) the plain output keeps its prefixes and streams and adds the table; a no-op build lists its cached tasks", async () => {
  const ws = testWorkspace({ "Buildfile.ts": BUILDFILE });
  const first = await ws.run(["b", "-j", "1"], { env: { CI: "1" } });
  expect({ ...first, stdout: times(first.stdout), stderr: times(first.stderr) }).toEqual({
    exitCode: 0,
    stdout: "> a\n[a] from a\n✓ a (<t>)\n> b\n[b] from b\n✓ b (<t>)\n",
    stderr: "[b] careful\ntask  status  cache  duration\na     ran     -      <t>\nb     ran     -      <t>\nrbuild: ok: 2 ran, 0 cached in <t>\n",
  });
  const again = await ws.run(["b", "-j", "1"], { env: { CI: "1" } });
  expect({ ...again, stderr: times(again.stderr) }).toEqual({
    exitCode: 0,
    stdout: "✓ a (cached, local)\n✓ b (cached, local)\n",
    stderr: "task  status  cache  duration\na     cached  local  <t>\nb     cached  local  <t>\nrbuild: ok: 0 ran, 2 cached in <t>\n",
  });
  // Without CI nothing changes: no table.
  const local = await ws.run(["b", "-j", "1"]);
  expect(local.stderr).toBe("rbuild: ok: 0 ran, 2 cached in <t>\n");
});

/** `xml` checked by a real parser and read back, attributes as `@_name`. */
function parseJunit(xml: string): any {
  expect(XMLValidator.validate(xml)).toBe(true);
  expect(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(xml)).toBe(false);
  return new XMLParser({ ignoreAttributes: false, parseTagValue: false, htmlEntities: true, isArray: (name) => name === "testcase" }).parse(xml);
}

test("24.2: --junit writes a testcase per task, the failed one with its output's tail (hostile bytes and all), the skipped one with why", async () => {
  const ws = testWorkspace({
    "Buildfile.ts": `import { task } from "rbuild";
const a = task({ name: "a", run: "echo from a" });
task({ name: "hostile", deps: [a], run: "sh hostile.sh" });
task({ name: "after", deps: ["hostile"], run: "echo never" });
`,
    // "]]>", markup, a NUL-free run of control characters (SOH, ESC, VT) and bytes that are not UTF-8.
    "hostile.sh": String.raw`printf 'ok ]]> <tag> & "q"\n\001\033[31mred\033[0m\013 \377\376 not utf-8\n' >&2; exit 3` + "\n",
  });
  const result = await ws.run(["after", "-j", "1", "--junit", "reports/junit.xml"]);
  expect(result.exitCode).toBe(1);
  const report = parseJunit(ws.read("reports/junit.xml"));
  const time = expect.stringMatching(/^\d+\.\d{3}$/);
  const counts = { "@_tests": "3", "@_failures": "1", "@_errors": "0", "@_skipped": "1", "@_time": time };
  expect(report.testsuites).toEqual({
    "@_name": "rbuild",
    ...counts,
    testsuite: {
      "@_name": "rbuild",
      ...counts,
      testcase: [
        { "@_classname": "rbuild", "@_name": "a", "@_time": time },
        {
          "@_classname": "rbuild",
          "@_name": "hostile",
          "@_time": time,
          failure: {
            "@_message": 'Task "hostile" failed: its command exited with code 3.',
            "@_type": "exit-nonzero",
            "#text": 'ok ]]> <tag> & "q"\nred \uFFFD\uFFFD not utf-8',
          },
        },
        { "@_classname": "rbuild", "@_name": "after", "@_time": time, skipped: { "@_message": "dependency-failed: hostile" } },
      ],
    },
  });
  // Written by a rename of a temp file: none is left beside it.
  expect(readdirSync(join(ws.root, "reports"))).toEqual(["junit.xml"]);
});

test("24.2: a --junit path that cannot be written is refused before the build, as is one --summary also names", async () => {
  const ws = testWorkspace({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "t", run: "touch ran" });\n`, blocker: "a file\n" });
  expect(await ws.run(["t", "--junit", "blocker/junit.xml"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr: "rbuild: error: --junit <root>/blocker/junit.xml: <root>/blocker is a file, not a directory. Give a file in a directory you can write.\nRun `rbuild --help` for usage.\n",
  });
  expect(await ws.run(["t", "--junit", "out.xml", "--summary", "./out.xml"])).toEqual({
    exitCode: 2,
    stdout: "",
    stderr: "rbuild: error: --summary and --junit both name <root>/out.xml; give each report a file of its own.\nRun `rbuild --help` for usage.\n",
  });
  expect(existsSync(join(ws.root, "ran"))).toBe(false);
});

test("24.2: a build that could not start still leaves a JUnit report with the error, so CI's test view shows it", async () => {
  const ws = testWorkspace({ "Buildfile.ts": `import { task } from "rbuild";\ntask({ name: "test", run: "true" });\n` });
  const result = await ws.run(["tset", "--junit", "junit.xml"]);
  expect(result.exitCode).toBe(2);
  const suite = parseJunit(ws.read("junit.xml")).testsuites.testsuite;
  expect(suite["@_failures"]).toBe("1");
  expect(suite.testcase).toEqual([
    {
      "@_classname": "rbuild",
      "@_name": "setup",
      "@_time": "0.000",
      failure: { "@_message": expect.stringContaining('"tset"'), "@_type": "setup", "#text": expect.stringContaining('"tset"') },
    },
  ]);
});
