import type { TaskResult } from "@rbuild/core";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { expect, test } from "vitest";
import { classOf, junitReport, junitSetupFailure, xmlAttribute, xmlText } from "./junit.js";

/** Any character XML 1.0 does not allow. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** `xml` checked by a real parser and read back, attributes as `@_name`, text as `#text`. */
function parseJunit(xml: string): any {
  expect(XMLValidator.validate(xml)).toBe(true);
  expect(NOT_XML.test(xml)).toBe(false);
  return new XMLParser({ ignoreAttributes: false, parseAttributeValue: false, parseTagValue: false, htmlEntities: true, isArray: (name) => name === "testcase" }).parse(xml);
}

const base = { cache: null, key: null, exitCode: null, reasons: [] } as const;
const HOSTILE = ["ok ]]> <tag> & \"q\" 'a'", "\x01\x1b[31mred\x1b[0m\x0b \uFFFD lone \uD800 \uFFFE end", "tab\there\r, CR kept"];

test("24.2: JUnit: one testcase per task, failure with the output tail, skipped with why; hostile output survives a real parser", () => {
  const results: TaskResult[] = [
    { ...base, name: "app#build", status: "ran", durationMs: 1234, exitCode: 0 },
    { ...base, name: "lint", status: "cached", cache: "local", durationMs: 3 },
    { ...base, name: "test ]]> <&>", status: "failed", durationMs: 20, exitCode: 3, failure: { reason: "exit-nonzero", task: "test ]]> <&>", exitCode: 3 } },
    { ...base, name: "e2e", status: "skipped", durationMs: 0, reasons: ["dependency-failed: test ]]> <&>"] },
    { ...base, name: "all", status: "ran", durationMs: 0, group: true },
  ];
  const xml = junitReport({ durationMs: 1500, results }, (task) => (task === "test ]]> <&>" ? HOSTILE : []), "/w");
  const counts = { "@_tests": "4", "@_failures": "1", "@_errors": "0", "@_skipped": "1", "@_time": "1.500" };
  expect(parseJunit(xml)).toEqual({
    "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
    testsuites: {
      "@_name": "rbuild",
      ...counts,
      testsuite: {
        "@_name": "rbuild",
        ...counts,
        testcase: [
          { "@_classname": "app", "@_name": "app#build", "@_time": "1.234" },
          { "@_classname": "rbuild", "@_name": "lint", "@_time": "0.003" },
          {
            "@_classname": "rbuild",
            "@_name": "test ]]> <&>",
            "@_time": "0.020",
            failure: {
              "@_message": 'Task "test ]]> <&>" failed: its command exited with code 3.',
              "@_type": "exit-nonzero",
              // Colour codes, control characters, the lone surrogate and U+FFFE are gone; CR survives as a reference.
              "#text": "ok ]]> <tag> & \"q\" 'a'\nred \uFFFD lone   end\ntab\there\r, CR kept",
            },
          },
          { "@_classname": "rbuild", "@_name": "e2e", "@_time": "0.000", skipped: { "@_message": "dependency-failed: test ]]> <&>" } },
        ],
      },
    },
  });
});

test("24.2: JUnit escaping keeps tab, LF and CR in attributes and CR in text, which parsers would otherwise normalise", () => {
  expect(xmlText("a\r\nb<&>\x00")).toBe("a&#13;\nb&lt;&amp;&gt;");
  expect(xmlAttribute('x\t"y"\n\r')).toBe("x&#9;&quot;y&quot;&#10;&#13;");
  expect([classOf("@scope/app#build"), classOf("build"), classOf("#odd")]).toEqual(["@scope/app", "rbuild", "rbuild"]);
});

test("24.2: a build that could not start is one failed testcase, setup, with the errors", () => {
  const xml = junitSetupFailure(['Unknown task "tset". Did you mean "test"?\nRun `rbuild --help` for usage.']);
  const suite = parseJunit(xml).testsuites.testsuite;
  expect(suite.testcase).toEqual([
    {
      "@_classname": "rbuild",
      "@_name": "setup",
      "@_time": "0.000",
      failure: { "@_message": 'Unknown task "tset". Did you mean "test"?\nRun `rbuild --help` for usage.', "@_type": "setup", "#text": 'Unknown task "tset". Did you mean "test"?\nRun `rbuild --help` for usage.' },
    },
  ]);
});
