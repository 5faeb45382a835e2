import { describe, expect, test } from "vitest";
import { LineSplitter } from "./line-splitter.js";

function split(chunks: (string | Buffer)[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.write(chunk);
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  test("joins pieces into whole lines and strips CRLF", () => {
    expect(split(["ab", "c\r\nde", "f\n\n", "tail"])).toEqual(["abc", "def", "", "tail"]);
  });

  test("decodes a UTF-8 character split across chunks", () => {
    const bytes = Buffer.from("größe\n");
    expect(split([bytes.subarray(0, 3), bytes.subarray(3)])).toEqual(["größe"]);
  });

  test("passes a line longer than 64 KiB on in pieces instead of holding it", () => {
    const lines = split(["x".repeat(64 * 1024 + 10)]);
    expect(lines.map((l) => l.length)).toEqual([64 * 1024, 10]);
  });
});
