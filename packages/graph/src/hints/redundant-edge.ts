/**
 * `redundant-edge` (info): a direct dependency that another direct dependency
 * already brings in. Harmless to the build; removing it keeps the Buildfile
 * saying what each task needs, and the graph readable.
 *
 * Not reported: a group's deps (a group names a selection, such as every
 * package's build, not what it needs), and an edge between two tasks of
 * workspace packages' scripts (`app#build` on `util#build`: a `#` in the
 * name and a package directory as `cwd`): it mirrors a package.json
 * dependency, which the package may well need itself.
 */
import { q, type Hint, type HintRule } from "../hint.js";
import { Reach } from "../reach.js";

export const redundantEdge: HintRule = (input) => {
  const reach = new Reach(input.tasks);
  const cwds = new Map(input.tasks.map((task) => [task.name, task.cwd]));
  const ofScripts = (name: string): boolean => name.lastIndexOf("#") > 0 && cwds.get(name) !== "";
  const hints: Hint[] = [];
  for (const task of input.tasks) {
    if (task.kind === "group") continue;
    for (const dep of task.deps) {
      if (ofScripts(task.name) && ofScripts(dep)) continue;
      const through = task.deps.find((other) => other !== dep && reach.dependsOn(other, dep));
      if (through === undefined) continue;
      const chain = [task.name, ...reach.chain(through, dep)!];
      hints.push({
        code: "redundant-edge",
        severity: "info",
        tasks: [task.name, dep],
        message: `${q(task.name)} depends on ${q(dep)} directly and also through ${chain.slice(1, -1).map((name) => `${q(name)}`).join(" -> ")}`,
        evidence: { task: task.name, dep, chain },
        savingMs: null,
        fix: `remove ${q(dep)} from deps of ${q(task.name)}`,
      });
    }
  }
  return hints;
};
