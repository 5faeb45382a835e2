import type { BuildEvent, TaskResult } from "@rbuild/core";
import { expect, test } from "vitest";
import { finalTable } from "./final-table.js";
import { errorAnnotation, escapeData, escapeProperty, groupStart, inCi } from "./github-actions.js";
import { HeldOutput } from "./held-output.js";
import { PlainReporter, type PlainReporterOptions } from "./plain-reporter.js";

/** A reporter writing into one log, each write tagged with its stream, so the order across streams shows. */
function reporter(options: Partial<PlainReporterOptions> = {}) {
  const log: string[] = [];
  const stdout = { write: (t: string) => log.push(`out:${t}`) };
  const stderr = { write: (t: string) => log.push(`err:${t}`) };
  const plain = new PlainReporter({ stdout, stderr, cwd: "/w", ...options });
  const send = (...events: BuildEvent[]) => events.forEach((event) => plain.report(event));
  /** The log as text: each write's lines, tagged. */
  const text = () => log.flatMap((write) => write.slice(4).split(/(?<=\n)/).map((line) => `${write.slice(0, 4)}${line}`)).join("");
  return { send, text };
}

const result = (name: string, status: TaskResult["status"], more: Partial<TaskResult> = {}): TaskResult => ({
  name,
  status,
  cache: status === "cached" ? "local" : null,
  key: null,
  durationMs: 5,
  exitCode: status === "failed" ? 1 : status === "ran" ? 0 : null,
  reasons: status === "skipped" ? ["dependency-failed: a"] : [],
  ...(status === "failed" ? { failure: { reason: "exit-nonzero", task: name, exitCode: 1 } as const } : {}),
  ...more,
});
const started = (task: string): BuildEvent => ({ type: "task-started", task, reasons: [] });
const out = (task: string, line: string, stream: "stdout" | "stderr" = "stdout"): BuildEvent => ({ type: "task-output", task, stream, line });
const finished = (r: TaskResult): BuildEvent => ({ type: "task-finished", result: r });
const end = (ok = true): BuildEvent => ({ type: "build-finished", ok, interrupted: false, durationMs: 42 });

/** Two tasks printing at once: a starts printing first, b prints and ends while a runs, then a ends. */
const INTERLEAVED: BuildEvent[] = [
  started("a"),
  started("b"),
  out("a", "a1"),
  out("b", "b1"),
  out("a", "a2", "stderr"),
  out("b", "b2", "stderr"),
  finished(result("b", "ran")),
  started("c"),
  out("c", "c1"),
  out("a", "a3"),
  finished(result("a", "ran")),
  out("c", "c2"),
  finished(result("c", "failed")),
  end(false),
];

test("24.2: two tasks' output never mixes: the first to print is shown live, the other's block waits for it to end", () => {
  const { send, text } = reporter();
  send(...INTERLEAVED);
  expect(text()).toBe(
    [
      "out:> a",
      "out:> b",
      "out:[a] a1",
      "err:[a] a2",
      // b printed nothing yet visibly; its start line stood beside a's lines, as c's does.
      "out:> c",
      "out:[a] a3",
      "out:✓ a (5ms)",
      // b's block and end line waited for a's block; then c, which held output, goes on live.
      "out:[b] b1",
      "err:[b] b2",
      "out:✓ b (5ms)",
      "out:[c] c1",
      "out:[c] c2",
      "out:✗ c (5ms)",
      'err:error: Task "c" failed: its command exited with code 1.',
      "err:rbuild: failed: 2 ran, 0 cached, 1 failed in 42ms",
      "",
    ].join("\n"),
  );
});

test("24.2: under GitHub Actions each block is a group on stdout, nothing else lands inside one, and a failure is annotated", () => {
  const { send, text } = reporter({ githubActions: true });
  send(...INTERLEAVED);
  expect(text()).toBe(
    [
      "out:> a",
      "out:> b",
      "out:::group::a",
      "out:a1",
      "out:a2",
      "out:a3",
      "out:::endgroup::",
      "out:✓ a (5ms)",
      // What waited for a's group, in the order it came: b's block and end line, c's start line.
      "out:::group::b",
      "out:b1",
      "out:b2",
      "out:::endgroup::",
      "out:✓ b (5ms)",
      "out:> c",
      "out:::group::c",
      "out:c1",
      "out:c2",
      "out:::endgroup::",
      "out:✗ c (5ms)",
      // No line of c's mentions an error, none is on stderr: the failure's own message.
      "out:::error title=c failed::Task \"c\" failed: its command exited with code 1.",
      'err:error: Task "c" failed: its command exited with code 1.',
      "err:rbuild: failed: 2 ran, 0 cached, 1 failed in 42ms",
      "",
    ].join("\n"),
  );
});

test("24.2: the annotation is the first line that mentions an error, else the first line on stderr; escaped as GitHub reads it", () => {
  const first = reporter({ githubActions: true });
  first.send(started("t:1,x"), out("t:1,x", "compiling 100%"), out("t:1,x", "warn", "stderr"), out("t:1,x", "src/a.ts(1,2): error TS2304: 50% off\r"), finished(result("t:1,x", "failed")), end(false));
  expect(first.text()).toContain("out:::error title=t%3A1%2Cx failed::src/a.ts(1,2): error TS2304: 50%25 off%0D\n");
  expect(first.text()).toContain("out:::group::t:1,x\n");
  const second = reporter({ githubActions: true });
  second.send(started("t"), out("t", "out"), out("t", "", "stderr"), out("t", "bad news", "stderr"), finished(result("t", "failed")), end(false));
  expect(second.text()).toContain("out:::error title=t failed::bad news\n");
});

test("24.2: workflow-command escaping: % first, CR and LF in data; also : and , in properties", () => {
  expect(escapeData("50%\r\nnext %0A")).toBe("50%25%0D%0Anext %250A");
  expect(escapeProperty("a: b, c%\n")).toBe("a%3A b%2C c%25%0A");
  expect(groupStart("pkg#build: x,y")).toBe("::group::pkg#build: x,y\n");
  expect(errorAnnotation("a,b: c failed", "line1\nline2")).toBe("::error title=a%2Cb%3A c failed::line1%0Aline2\n");
  expect([inCi({}), inCi({ CI: "true" }), inCi({ CI: "1" }), inCi({ CI: "false" }), inCi({ CI: "" }), inCi({ GITHUB_ACTIONS: "true" })]).toEqual([false, true, true, false, false, true]);
});

test("24.2: with errors-only a failed task's output is still one block, under GitHub Actions a group", () => {
  const { send, text } = reporter({ githubActions: true, outputLogs: "errors-only" });
  send(started("a"), started("b"), out("a", "a1"), out("b", "b1"), out("a", "a2"), finished(result("a", "ran")), out("b", "b2"), finished(result("b", "failed")), end(false));
  expect(text()).toBe(
    [
      "out:> a",
      "out:> b",
      "out:✓ a (5ms)",
      "out:::group::b",
      "out:b1",
      "out:b2",
      "out:::endgroup::",
      "out:✗ b (5ms)",
      "out:::error title=b failed::Task \"b\" failed: its command exited with code 1.",
      'err:error: Task "b" failed: its command exited with code 1.',
      "err:rbuild: failed: 1 ran, 0 cached, 1 failed in 42ms",
      "",
    ].join("\n"),
  );
});

test("24.2: the final table lists what ran, failed or was skipped, aligned and by name; many cached tasks are one count line", () => {
  const few = [result("lint", "cached", { cache: "remote", durationMs: 40 }), result("build", "ran", { durationMs: 1234 }), result("test", "failed"), result("e2e", "skipped"), result("all", "ran", { group: true })];
  expect(finalTable(few)).toBe(
    ["task   status   cache   duration", "build  ran      -       1.2s", "e2e    skipped  -       -", "lint   cached   remote  40ms", "test   failed   -       5ms", ""].join("\n"),
  );
  const many = [result("build", "ran"), ...Array.from({ length: 11 }, (_, i) => result(`pkg${i}#build`, "cached", { cache: i < 3 ? "remote" : "local" }))];
  expect(finalTable(many)).toBe(["task   status  cache  duration", "build  ran     -      5ms", "+ 11 cached (8 local, 3 remote)", ""].join("\n"));
  expect(finalTable([])).toBe("");
});

test("24.2: in CI the table comes before the recap, in the same write", () => {
  const { send, text } = reporter({ finalTable: true });
  send(started("a"), finished(result("a", "ran")), finished(result("b", "cached")), end());
  expect(text()).toBe(
    ["out:> a", "out:✓ a (5ms)", "out:✓ b (cached, local)", "err:task  status  cache  duration", "err:a     ran     -      5ms", "err:b     cached  local  5ms", "err:rbuild: ok: 1 ran, 1 cached in 42ms", ""].join("\n"),
  );
});

test("24.2: held output keeps its first and last part and counts the lines between", () => {
  const sink = { write: () => {} };
  const held = new HeldOutput(10);
  for (let i = 0; i < 20; i++) held.add([sink, `l${String(i).padStart(2, "0")}\n`]);
  const lines = held.lines((n) => [sink, `(${n} left out)\n`]).map(([, text]) => text.trim());
  expect(lines).toEqual(["l00", "l01", "(16 left out)", "l18", "l19"]);
});
