import type { TaskResult } from "@rbuild/core";
import { XMLParser } from "fast-xml-parser";
import { expect, test } from "vitest";
import { junitReport } from "./junit.js";

test("24.2: a coloured failure's JUnit body and message hold no colour codes, not even without their ESC", () => {
  const results: TaskResult[] = [
    { name: "test", status: "failed", cache: null, key: null, durationMs: 5, exitCode: 1, reasons: [], failure: { reason: "exit-nonzero", task: "test", exitCode: 1 } },
  ];
  const tail = ["\x1b[31mFAIL\x1b[0m src/a.test.ts", "\x1b[1;32m✓\x1b[39;22m kept\x1b[?25h"];
  const xml = junitReport({ durationMs: 5, results }, () => tail, "/w");
  expect(xml).not.toContain("[31m");
  const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml);
  expect(parsed.testsuites.testsuite.testcase.failure).toEqual({
    "@_message": 'Task "test" failed: its command exited with code 1.',
    "@_type": "exit-nonzero",
    "#text": "FAIL src/a.test.ts\n✓ kept",
  });
});
