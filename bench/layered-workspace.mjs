/**
 * The benchmarks' generated workspace (run.mjs, tui.mjs, watch.mjs): P packages of F
 * source files in a layered DAG (layers of WIDTH; each package depends on the
 * package at its position in the layer before, and every fifth also on its
 * neighbour), and a Buildfile.ts with one task per package,
 *   cat <its sources> <its deps' outputs> | md5sum > pkgs/pN/out.txt
 * and `all`, a group of them. Removes `dir` first.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const WIDTH = 25;

export function writeLayeredWorkspace(dir, P, F) {
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < P; i++) {
    mkdirSync(join(dir, `pkgs/p${i}/src`), { recursive: true });
    for (let j = 0; j < F; j++) writeFileSync(join(dir, `pkgs/p${i}/src/f${j}.txt`), `package ${i} file ${j}\n`);
  }
  writeFileSync(
    join(dir, "Buildfile.ts"),
    `import { task } from "rbuild";
const P = ${P}, F = ${F}, WIDTH = ${WIDTH};
const deps = (i: number): number[] => (i < WIDTH ? [] : i % 5 === 0 && (i % WIDTH) + 1 < WIDTH ? [i - WIDTH, i - WIDTH + 1] : [i - WIDTH]);
const out = (i: number) => \`pkgs/p\${i}/out.txt\`;
for (let i = 0; i < P; i++) {
  const files = Array.from({ length: F }, (_, j) => \`pkgs/p\${i}/src/f\${j}.txt\`);
  task({
    name: \`p\${i}\`,
    deps: deps(i).map((d) => \`p\${d}\`),
    inputs: [\`pkgs/p\${i}/src/**\`],
    outputs: [out(i)],
    run: \`cat \${[...files, ...deps(i).map(out)].join(" ")} | md5sum > \${out(i)}\`,
  });
}
task({ name: "all", deps: Array.from({ length: P }, (_, i) => \`p\${i}\`) });
`,
  );
}
