import { describe, expect, test } from "vitest";
import { protectedOutput } from "./protected-outputs.js";

const KEPT = ["Buildfile.ts", "lib/helper.ts", "node_modules/pkg/index.js"];

describe("20.N4b: protectedOutput", () => {
  test("20.N4b: root globs that match no kept file, and globs below a directory, are accepted", () => {
    for (const outputs of [["*.log"], ["**/*.map"], ["dist/**"], ["lib/*.js"], ["**", "!**"], ["*.ts", "!Buildfile.ts"]]) {
      expect([outputs, protectedOutput(outputs, KEPT)]).toEqual([outputs, undefined]);
    }
  });

  test("20.N4b: globs that cover the root are refused with or without kept files, excludes considered", () => {
    for (const outputs of [["**"], ["**/*"], ["*/**"], ["*/*"], ["dist/**", "**", "!src/**"]]) {
      expect(protectedOutput(outputs, [])).toEqual({ glob: outputs.find((g) => g.startsWith("*"))!, covers: "workspace" });
    }
  });

  test("20.N4b: globs that match a kept file are refused unless excluded", () => {
    expect(protectedOutput(["*.ts"], KEPT)).toEqual({ glob: "*.ts", covers: "buildfile", path: "Buildfile.ts" });
    expect(protectedOutput(["lib"], KEPT)).toEqual({ glob: "lib", covers: "buildfile", path: "lib/helper.ts" });
    expect(protectedOutput(["**/*.js"], KEPT)).toEqual({ glob: "**/*.js", covers: "buildfile", path: "node_modules/pkg/index.js" });
    expect(protectedOutput(["lib/**", "!lib/helper.ts"], KEPT)).toBeUndefined();
  });
});
