/**
 * Where a run's time goes, phase by phase: with `RBUILD_PHASES=1`, rbuild
 * prints one line to stderr at the end, e.g.
 *   rbuild: phases: start 61ms, buildfile 24ms, plan 3ms, fresh 31ms, execute 9ms, finish 2ms
 * "start" is Node's own start-up and loading rbuild (performance.now() counts
 * from the process's start), or for a build the daemon runs, from the moment
 * its request arrived. For benchmarks and profiling; off, it costs nothing.
 */
export function phasesWanted(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env.RBUILD_PHASES;
  return value !== undefined && value !== "" && value !== "0";
}

let enabled = phasesWanted(process.env);
let phases: [string, number][] = [];
let notes: string[] = [];
let last = 0;
let cpuAtStart: NodeJS.CpuUsage | undefined;

/** Starts measuring a new run (the daemon runs many in one process). */
export function startPhases(on: boolean): void {
  enabled = on;
  phases = [];
  notes = [];
  last = performance.now();
  cpuAtStart = process.cpuUsage();
}

/** Ends the phase called `name` now. */
export function phase(name: string): void {
  if (!enabled) return;
  const now = performance.now();
  phases.push([name, now - last]);
  last = now;
}

/** Adds a fact about the run to its phases line, e.g. how many files were hashed. */
export function phaseNote(note: string): void {
  if (enabled) notes.push(note);
}

/** The line describing this run's phases, or undefined when they were not measured. */
export function phasesReport(): string | undefined {
  if (!enabled || phases.length === 0) return undefined;
  const cpu = process.cpuUsage(cpuAtStart);
  const rss = process.resourceUsage().maxRSS;
  const facts = notes.map((note) => `; ${note}`).join("");
  return `rbuild: phases: ${phases.map(([n, ms]) => `${n} ${ms.toFixed(1)}ms`).join(", ")}; cpu: user ${(cpu.user / 1000).toFixed(0)}ms, system ${(cpu.system / 1000).toFixed(0)}ms, max rss ${(rss / 1024).toFixed(0)} MiB${facts}\n`;
}

if (enabled) process.once("exit", () => {
  const report = phasesReport();
  if (report !== undefined) process.stderr.write(report);
});
