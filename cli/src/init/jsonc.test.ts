import { describe, expect, test } from "vitest";
import { parseJsonc } from "./jsonc.js";

describe("parseJsonc", () => {
  test("22.4: comments and trailing commas are skipped, strings that look like them are kept", () => {
    const text = `{
  // a "line" comment
  "a": ["x//y", "/*z*/", "q\\\\",], /* a block "comment",] */
  "b": { "c": ",]", "d": "\\"//" },
}`;
    expect(parseJsonc(text)).toEqual({ a: ["x//y", "/*z*/", "q\\"], b: { c: ",]", d: '"//' } });
  });

  test("22.4: what is not JSON after that throws JSON.parse's error", () => {
    expect(() => parseJsonc("{ a: 1 }")).toThrow(SyntaxError);
    expect(() => parseJsonc('{ "a": 1 /* unclosed')).toThrow(SyntaxError);
  });
});
