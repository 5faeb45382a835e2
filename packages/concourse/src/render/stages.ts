/**
 * A Buildfile's stages in a pipeline (reference §1.2 `groups`, §1.7). A stage's tasks keep a job
 * each, as every task does; what the stage adds is:
 *
 * - its order: a task of a stage starts only after every task of the stages it follows, so its
 *   job's `passed:` names those tasks' jobs too, beside its deps' (a job already waited for through
 *   another job of that list is left out: `passed:` on the one source resource is transitive);
 * - its name: a `groups:` entry, a tab of the pipeline's page, with its jobs. Concourse refuses a
 *   pipeline with groups where some job is in none, so when stages are declared, the jobs of tasks
 *   in no stage are the group `other` (`other-2`, ... if a stage has that name).
 *
 * A job per stage (its tasks run as one build) was not chosen: pools are `serial_groups` of jobs,
 * impure tasks are jobs started by hand and tasks have images of their own, which a stage's job could
 * not keep apart, and one failing task would run the whole stage again.
 */
import { compare, uniqueNames } from "./names.js";
import type { PipelineStage } from "./pipeline-task.js";

/** A `groups:` entry. */
export interface GroupConfig {
  readonly name: string;
  readonly jobs: readonly string[];
}

/** The tasks that a stage's tasks wait for besides their deps (those of the stages it follows), by stage name. */
export function stageWaits(stages: readonly PipelineStage[], working: (tasks: readonly string[]) => string[]): ReadonlyMap<string, readonly string[]> {
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  return new Map(stages.map((stage) => [stage.name, [...new Set(stage.after.flatMap((other) => working(byName.get(other)?.tasks ?? [])))]]));
}

/**
 * What a job's `passed:` names: its deps (`deps`), and of the tasks of earlier stages (`after`)
 * those that none of the others waits for already (`reach`: every task a task waits for, transitively).
 */
export function passedTasks(deps: readonly string[], after: readonly string[], reach: (task: string) => ReadonlySet<string>): string[] {
  const all = [...new Set([...deps, ...after])];
  return all.filter((task) => deps.includes(task) || !all.some((other) => other !== task && reach(other).has(task)));
}

/** One group per stage with jobs, in the stages' order, each with its jobs in `order`; then `other`, when some job is in no stage. */
export function stageGroups(stages: readonly PipelineStage[], order: readonly string[], stageOfJob: ReadonlyMap<string, string | undefined>): GroupConfig[] {
  const withJobs = stages.filter((stage) => order.some((job) => stageOfJob.get(job) === stage.name));
  if (withJobs.length === 0) return [];
  const names = uniqueNames(withJobs.map((stage) => stage.name));
  const groups = withJobs.map((stage) => ({ name: names.get(stage.name)!, jobs: order.filter((job) => stageOfJob.get(job) === stage.name) }));
  const rest = order.filter((job) => stageOfJob.get(job) === undefined);
  if (rest.length === 0) return groups;
  const taken = new Set(groups.map((group) => group.name));
  let other = "other";
  for (let n = 2; taken.has(other); n++) other = `other-${n}`;
  return [...groups, { name: other, jobs: rest }];
}
