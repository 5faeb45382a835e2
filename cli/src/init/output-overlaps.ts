/**
 * Outputs two translated tasks of one package would share. turbo lets two
 * tasks of a package declare outputs that match the same files (`build`:
 * `dist/**`, `build:types`: `dist/**\/*.d.ts`); rbuild refuses such a
 * Buildfile (an output file is one task's: issue 20.3). So, per package and
 * for each pair of its tasks whose outputs can match one path (decided as the
 * planner decides it, by `overlappingOutputs`), one task's outputs exclude the
 * other's include globs, with a note saying so:
 *
 * - the broader task gives the narrower one its files: the earlier task of the
 *   pair (in turbo.json's order) excludes the later one's globs when that
 *   leaves it outputs of its own and no overlap, else the later one excludes
 *   the earlier one's;
 * - when neither leaves both with outputs (the same globs), the later task
 *   excludes them and keeps none of those files.
 *
 * An exclusion every package of a task gets goes in the task's shared
 * options; one only some packages get goes in their overrides.
 */
import { overlappingOutputs } from "@rbuild/hash";
import type { Workspace } from "@rbuild/workspaces";
import type { InitPlan, PlannedOptions, PlannedScripts, PlannedTask } from "./plan.js";

/** Whether package `name` is one the scripts() call's `packages` keeps (init writes exact names). */
function member(call: PlannedScripts, name: string): boolean {
  if (call.packages === undefined) return true;
  const named = call.packages.filter((entry) => !entry.startsWith("!"));
  return named.length > 0 ? named.includes(name) : !call.packages.includes(`!${name}`);
}

const overlap = (a: readonly string[], b: readonly string[]): string | undefined =>
  overlappingOutputs([
    { task: "a", patterns: a },
    { task: "b", patterns: b },
  ])[0]?.path;

/** Whether `globs` can match any path at all. */
const matchesSomething = (globs: readonly string[]): boolean => overlap(globs, ["**"]) !== undefined;

const includes = (globs: readonly string[]): string[] => globs.filter((glob) => !glob.startsWith("!"));

/** What one task of one package gives up: the globs it excludes, and a note's reason. */
interface Exclusion {
  readonly globs: string[];
  readonly reasons: string[];
}

/** The plan with the outputs of each package's tasks made disjoint, and a note on each task changed. */
export function resolveOutputOverlaps(plan: InitPlan, ws: Workspace): InitPlan {
  const declared = plan.tasks.filter((planned): planned is PlannedTask & { scripts: PlannedScripts } => planned.scripts !== undefined);
  // Per task name, per package: what it gives up.
  const exclusions = new Map<string, Map<string, Exclusion>>();
  for (const pkg of ws.packages) {
    const tasks = declared
      .filter((planned) => pkg.scripts[planned.name] !== undefined && member(planned.scripts, pkg.name))
      .map((planned) => {
        const override = planned.scripts.overrides.find(([name]) => name === pkg.name)?.[1];
        return { name: planned.name, outputs: [...(override?.outputs ?? planned.scripts.options.outputs ?? [])] };
      });
    for (let i = 0; i < tasks.length; i++) {
      for (let j = i + 1; j < tasks.length; j++) {
        const [first, second] = [tasks[i]!, tasks[j]!];
        const path = overlap(first.outputs, second.outputs);
        if (path === undefined) continue;
        const without = (from: string[], other: string[]): string[] => [...from, ...includes(other).map((glob) => `!${glob}`)];
        const firstGivesUp = without(first.outputs, second.outputs);
        const [giver, taker, outputs] =
          matchesSomething(firstGivesUp) && overlap(firstGivesUp, second.outputs) === undefined
            ? [first, second, firstGivesUp]
            : [second, first, without(second.outputs, first.outputs)];
        const added = outputs.slice(giver.outputs.length);
        giver.outputs = outputs;
        const byPackage = exclusions.get(giver.name) ?? exclusions.set(giver.name, new Map()).get(giver.name)!;
        const exclusion = byPackage.get(pkg.name) ?? byPackage.set(pkg.name, { globs: [], reasons: [] }).get(pkg.name)!;
        exclusion.globs.push(...added);
        const keeps = matchesSomething(outputs) ? "" : `, and ${giver.name} keeps no outputs of its own`;
        exclusion.reasons.push(`those of ${taker.name}: both would match ${path}${keeps}`);
      }
    }
  }
  if (exclusions.size === 0) return plan;
  return { ...plan, tasks: plan.tasks.map((planned) => (planned.scripts === undefined ? planned : withExclusions(planned, planned.scripts, exclusions.get(planned.name), ws))) };
}

function withExclusions(planned: PlannedTask, call: PlannedScripts, byPackage: Map<string, Exclusion> | undefined, ws: Workspace): PlannedTask {
  if (byPackage === undefined) return planned;
  const note = (label: string, exclusion: Exclusion): string =>
    `rbuild init: ${label} leave out ${exclusion.globs.map((glob) => JSON.stringify(glob.slice(1))).join(", ")}, ${exclusion.reasons.join("; ")}. ` +
    "In rbuild an output file is one task's (turbo lets two tasks declare it)";
  const members = ws.packages.filter((pkg) => pkg.scripts[planned.name] !== undefined && member(call, pkg.name)).map((pkg) => pkg.name);
  const [sample] = [...byPackage.values()];
  const key = (exclusion: Exclusion | undefined): string => JSON.stringify(exclusion?.globs);
  const overridden = (name: string): boolean => call.overrides.some(([pkg, options]) => pkg === name && options.outputs !== undefined);
  // The same exclusion for every package, none of which has outputs of its own: the shared options change.
  if (members.every((name) => key(byPackage.get(name)) === key(sample) && !overridden(name))) {
    const options: PlannedOptions = { ...call.options, outputs: [...(call.options.outputs ?? []), ...sample!.globs] };
    return { ...planned, comments: [...planned.comments, note(`${planned.name} outputs`, sample!)], scripts: { ...call, options } };
  }
  const overrides = [...call.overrides];
  // One note for the packages that give up the same files for the same reasons.
  const noted = new Map<string, { exclusion: Exclusion; packages: string[] }>();
  for (const [pkg, exclusion] of byPackage) {
    const at = overrides.findIndex(([name]) => name === pkg);
    const own = at === -1 ? undefined : overrides[at]![1];
    const options: PlannedOptions = { ...own, outputs: [...(own?.outputs ?? call.options.outputs ?? []), ...exclusion.globs] };
    if (at === -1) overrides.push([pkg, options]);
    else overrides[at] = [pkg, options];
    const same = JSON.stringify(exclusion);
    const entry = noted.get(same) ?? noted.set(same, { exclusion, packages: [] }).get(same)!;
    entry.packages.push(pkg);
  }
  const comments = [...planned.comments, ...[...noted.values()].map(({ exclusion, packages }) => note(`${planned.name} outputs of ${packages.join(", ")}`, exclusion))];
  return { ...planned, comments, scripts: { ...call, overrides } };
}
