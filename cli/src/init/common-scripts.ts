/**
 * A workspace without turbo.json as an InitPlan: its common scripts (build,
 * test, lint, typecheck) as tasks. `build` runs after the builds of the
 * packages it depends on (`^build`) and keeps `dist/**` (a guess, with a note
 * to check it); the others run after their own package's build and those of
 * its dependencies (`^build` too, for a package that has no build script of
 * its own), since tests, linters and type checkers read what those write.
 */
import { err, ok, type Result } from "@rbuild/core";
import type { Workspace } from "@rbuild/workspaces";
import type { InitPlan, PlannedTask } from "./plan.js";

export const COMMON_SCRIPTS = ["build", "test", "lint", "typecheck"] as const;

export function translateCommonScripts(ws: Workspace): Result<InitPlan, string> {
  const present = COMMON_SCRIPTS.filter((script) => ws.packages.some((pkg) => pkg.scripts[script] !== undefined));
  if (present.length === 0) {
    return err(
      `no workspace package has a ${COMMON_SCRIPTS.join(", ")} script and there is no turbo.json, so there is nothing to translate; ` +
        "write a Buildfile.ts with scripts() for the scripts you run (see rbuild's README, \"A monorepo\")",
    );
  }
  const hasBuild = present.includes("build");
  const tasks = present.map((script): PlannedTask => {
    if (script === "build") {
      return {
        name: script,
        comments: [
          "Every package's `build` script, after the builds of the packages it depends on (`^build`).",
          "rbuild init: outputs guessed: check that the build scripts write dist/ (a cached build restores only its outputs)",
        ],
        scripts: { options: { deps: ["^build"], outputs: ["dist/**"] }, overrides: [] },
      };
    }
    return {
      name: script,
      comments: [hasBuild ? `Every package's \`${script}\` script, after its package's build and those of its dependencies.` : `Every package's \`${script}\` script.`],
      scripts: { options: hasBuild ? { deps: ["^build", "build"] } : {}, overrides: [] },
    };
  });
  return ok({ source: "the packages' scripts", comments: [], tasks });
}
