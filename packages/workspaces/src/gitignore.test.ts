import { expect, test } from "vitest";
import { gitignoreGlobs } from "./gitignore.js";

test("20.N4: a .gitignore line with a . or .. segment ignores nothing, so it excludes nothing (the planner would fold it into another path)", () => {
  const lines = ["./build", "/../secrets", "docs/../src", "gen/./out/", "*/../x", ".", "..", ".env", "..cache/", "out/"];
  expect(gitignoreGlobs(lines, "pkg", "pkg")).toEqual(["pkg/**/.env", "pkg/**/.env/**", "pkg/**/..cache/**", "pkg/**/out/**"]);
});
