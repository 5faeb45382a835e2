/**
 * The JUnit XML report (`--junit FILE`), in the shape CI test-report viewers
 * read (GitHub's test reporters, GitLab, Jenkins, Azure):
 *
 *   <testsuites name="rbuild" tests failures errors skipped time>
 *     <testsuite name="rbuild" tests failures errors skipped time>
 *       <testcase classname="<package or rbuild>" name="<task>" time="<seconds>">
 *         <failure message="<the error a user reads>" type="<reason>">last lines of output</failure>
 *         | <skipped message="<why>"/>
 *       </testcase>
 *
 * One testcase per task, in the order of the run summary; groups (tasks without
 * `run`) only when they did not complete. A failed build's undos follow, one
 * testcase each, named `undo <task>`. `classname` is the workspace package
 * of a `scripts()` task (`app` of `app#build`), otherwise "rbuild". Text is
 * XML-escaped, colour codes are removed, and characters XML 1.0 cannot hold at all (control characters
 * other than tab, LF and CR, lone surrogates, U+FFFE/U+FFFF) are removed, so
 * that any task output gives a file every parser accepts.
 */
import { describeFailure, stripAnsi, type TaskResult, type UndoResult } from "@rbuild/core";
import { undoFailure } from "./attempt-text.js";

/** Characters XML 1.0 allows: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * `text` as XML character data. Colour codes go first, whole (removing only
 * their ESC with the other control characters would leave `[31m`). CR is
 * written as a reference: a parser would turn a raw one into LF.
 */
export function xmlText(text: string): string {
  return stripAnsi(text).replace(NOT_XML, "").replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\r", "&#13;");
}

/** `text` as a double-quoted attribute value; tab, LF and CR as references, which attribute normalisation keeps. */
export function xmlAttribute(text: string): string {
  return xmlText(text).replaceAll('"', "&quot;").replaceAll("\t", "&#9;").replaceAll("\n", "&#10;");
}

const time = (ms: number): string => (ms / 1000).toFixed(3);

/** The package of a `scripts()` task (`@scope/app` of `@scope/app#build`; package names hold no `#`), else "rbuild". */
export function classOf(task: string): string {
  const hash = task.indexOf("#");
  return hash > 0 ? task.slice(0, hash) : "rbuild";
}

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly ms: number;
  /** The element inside the testcase, if any. */
  readonly body: string;
  readonly status: "passed" | "failed" | "skipped";
}

function document(cases: readonly Case[], ms: number): string {
  const failures = cases.filter((c) => c.status === "failed").length;
  const skipped = cases.filter((c) => c.status === "skipped").length;
  const counts = `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time(ms)}"`;
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="rbuild" ${counts}>\n  <testsuite name="rbuild" ${counts}>\n`;
  for (const c of cases) {
    const open = `    <testcase classname="${xmlAttribute(c.classname)}" name="${xmlAttribute(c.name)}" time="${time(c.ms)}"`;
    xml += c.body === "" ? `${open}/>\n` : `${open}>\n      ${c.body}\n    </testcase>\n`;
  }
  return `${xml}  </testsuite>\n</testsuites>\n`;
}

/** The report of a build: `tail(task)` gives a failed task's last lines of output. */
export function junitReport(
  build: { readonly durationMs: number; readonly results: readonly TaskResult[]; readonly undos?: readonly UndoResult[] },
  tail: (task: string) => readonly string[],
  cwd: string,
): string {
  const cases: Case[] = [];
  for (const r of build.results) {
    if (r.group === true && (r.status === "ran" || r.status === "cached")) continue;
    const base = { classname: classOf(r.name), name: r.name, ms: r.durationMs };
    if (r.status === "failed") {
      const message = r.failure === undefined ? `Task "${r.name}" failed.` : describeFailure(r.failure, { cwd });
      const lines = tail(r.name);
      const output = lines.length === 0 ? message : lines.join("\n");
      const type = r.failure?.reason ?? "failed";
      cases.push({ ...base, status: "failed", body: `<failure message="${xmlAttribute(message)}" type="${xmlAttribute(type)}">${xmlText(output)}</failure>` });
    } else if (r.status === "skipped") {
      cases.push({ ...base, status: "skipped", body: `<skipped message="${xmlAttribute(r.reasons.join(", "))}"/>` });
    } else cases.push({ ...base, status: "passed", body: "" });
  }
  for (const u of build.undos ?? []) {
    const base = { classname: classOf(u.task), name: `undo ${u.task}`, ms: u.durationMs };
    if (u.ok) cases.push({ ...base, status: "passed", body: "" });
    else {
      const message = `undo ${u.task} FAILED: ${undoFailure(u, cwd)}`;
      cases.push({ ...base, status: "failed", body: `<failure message="${xmlAttribute(message)}" type="undo-failed">${xmlText(message)}</failure>` });
    }
  }
  return document(cases, build.durationMs);
}

/** The report of a build that could not start: one failed testcase, `setup`, with the errors. */
export function junitSetupFailure(errors: readonly string[]): string {
  const message = errors.join("\n");
  return document([{ classname: "rbuild", name: "setup", ms: 0, status: "failed", body: `<failure message="${xmlAttribute(message)}" type="setup">${xmlText(message)}</failure>` }], 0);
}
