/**
 * `missing-import-dep` (error): a TypeScript file among a task's inputs
 * imports a workspace package (by its package.json name) whose producing task
 * (packages.ts) is not among the task's dependencies, directly or not: the
 * task may run before that package is built, or against an old build of it.
 * Imports are the module specifiers of `import`, `export ... from`,
 * `import()` and `require()` (gather.ts); type-only imports count, since
 * they read the package's built declarations.
 */
import { q, quoteList, type Hint, type HintRule } from "../hint.js";
import { packageName, packageOf, producersByPackage } from "../packages.js";
import { Reach } from "../reach.js";

interface Found {
  readonly task: string;
  readonly pkg: { readonly name: string; readonly dir: string };
  readonly producers: readonly string[];
  readonly imports: { file: string; specifier: string }[];
}

export const missingImportDep: HintRule = (input) => {
  if (input.packages.length === 0 || input.imports.size === 0) return [];
  const reach = new Reach(input.tasks);
  const producers = producersByPackage([...input.tasks, ...input.outside], input.packages, reach);
  const byName = new Map(input.packages.map((pkg) => [pkg.name, pkg]));
  const found = new Map<string, Found>();
  for (const task of input.tasks) {
    for (const file of input.inputFiles.get(task.name) ?? []) {
      const specifiers = input.imports.get(file);
      if (specifiers === undefined) continue;
      const home = packageOf(file, input.packages)?.name;
      for (const specifier of specifiers) {
        const name = packageName(specifier);
        const pkg = name === undefined ? undefined : byName.get(name);
        if (pkg === undefined || pkg.name === home) continue;
        const builders = producers.get(pkg.name) ?? [];
        if (builders.length === 0 || builders.includes(task.name)) continue;
        // Needed already, or impossible to add without a cycle (the package is built from this task's outputs).
        if (builders.some((builder) => reach.dependsOn(task.name, builder) || reach.dependsOn(builder, task.name))) continue;
        const pair = `${task.name}\0${pkg.name}`;
        const known = found.get(pair);
        if (known === undefined) found.set(pair, { task: task.name, pkg, producers: builders, imports: [{ file, specifier }] });
        else known.imports.push({ file, specifier });
      }
    }
  }
  return [...found.values()].map((f): Hint => {
    const first = f.imports[0]!;
    const more = f.imports.length > 1 ? ` (and ${f.imports.length - 1} more import${f.imports.length > 2 ? "s" : ""})` : "";
    const fromScripts = f.task.includes("#") && f.producers.every((producer) => producer.includes("#"));
    const manifest = packageOf(first.file, input.packages);
    const viaManifest =
      fromScripts && manifest !== undefined
        ? `add ${q(f.pkg.name)} to the dependencies in ${manifest.dir}/package.json (so that "^" deps reach ${quoteList(f.producers)}), or `
        : "";
    return {
      code: "missing-import-dep",
      severity: "error",
      tasks: [f.task, ...f.producers],
      message: `${first.file} imports ${q(first.specifier)}${more}, the workspace package in ${f.pkg.dir}/ that ${quoteList(f.producers)} build${f.producers.length === 1 ? "s" : ""}, but ${q(f.task)} does not depend on ${f.producers.length === 1 ? "it" : "them"}: it may run before that package is built, or against an old build`,
      evidence: { package: f.pkg.name, packageDir: f.pkg.dir, producers: f.producers, imports: f.imports.slice(0, 10), importCount: f.imports.length },
      savingMs: null,
      fix: `${viaManifest}add ${quoteList(f.producers, Infinity)} to deps of ${q(f.task)}`,
    };
  });
};
