/**
 * The flags of the benchmarks on the layered workspace (layered-workspace.mjs):
 * --packages P (default 1000), --files F (10), --runs (5), --jobs (the
 * cores), and `more`, a benchmark's own (parseArgs options).
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";

export function layeredArgs(more = {}) {
  const { values } = parseArgs({
    options: {
      packages: { type: "string", default: "1000" },
      files: { type: "string", default: "10" },
      runs: { type: "string", default: "5" },
      jobs: { type: "string", default: String(cpus().length) },
      ...more,
    },
  });
  return { values, P: Number(values.packages), F: Number(values.files), RUNS: Number(values.runs), JOBS: Number(values.jobs) };
}
