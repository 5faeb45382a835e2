/**
 * Where a run's time goes, phase by phase: with `RBUILD_PHASES=1`, rbuild
 * prints one line to stderr at exit, e.g.
 *   rbuild: phases: start 61ms, buildfile 24ms, plan 3ms, stamp 31ms, execute 9ms, finish 2ms
 * "start" is Node's own start-up and loading rbuild (performance.now() counts
 * from the process's start). For benchmarks and profiling; off, it costs nothing.
 */
const enabled = process.env.RBUILD_PHASES !== undefined && process.env.RBUILD_PHASES !== "" && process.env.RBUILD_PHASES !== "0";
const phases: [string, number][] = [];
let last = 0;

/** Ends the phase called `name` now. */
export function phase(name: string): void {
  if (!enabled) return;
  const now = performance.now();
  phases.push([name, now - last]);
  last = now;
  if (phases.length === 1) process.once("exit", () => {
    const cpu = process.cpuUsage();
    const usage = process.resourceUsage();
    process.stderr.write(`rbuild: phases: ${phases.map(([n, ms]) => `${n} ${ms.toFixed(1)}ms`).join(", ")}; cpu: user ${(cpu.user / 1000).toFixed(0)}ms, system ${(cpu.system / 1000).toFixed(0)}ms, max rss ${(usage.maxRSS / 1024).toFixed(0)} MiB\n`);
  });
}
