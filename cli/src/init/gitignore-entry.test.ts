import { describe, expect, test } from "vitest";
import { cacheIgnoreAddition } from "./gitignore-entry.js";

describe("cacheIgnoreAddition", () => {
  test("22.4: .rbuild/ is appended after what is there, on a line of its own, or makes the file", () => {
    expect(cacheIgnoreAddition(undefined)).toBe(".rbuild/\n");
    expect(cacheIgnoreAddition("")).toBe(".rbuild/\n");
    expect(cacheIgnoreAddition("node_modules\n")).toBe(".rbuild/\n");
    expect(cacheIgnoreAddition("node_modules\r\ndist")).toBe("\n.rbuild/\n");
    expect(cacheIgnoreAddition("# .rbuild\n.rbuild.txt\nsub/.rbuild\n")).toBe(".rbuild/\n");
  });

  test("22.4: nothing is added when a line already ignores .rbuild, unless a later `!` line undoes it", () => {
    for (const line of [".rbuild", ".rbuild/", "/.rbuild", "/.rbuild/", ".rbuild/*", "/.rbuild/**", ".rbuild/  "]) {
      expect([line, cacheIgnoreAddition(`node_modules\n${line}\n`)]).toEqual([line, undefined]);
    }
    expect(cacheIgnoreAddition(".rbuild/\n!.rbuild/\n")).toBe(".rbuild/\n");
    expect(cacheIgnoreAddition("!.rbuild\n.rbuild\n")).toBe(undefined);
  });
});
