/**
 * A build graph as a Concourse pipeline (reference §1.7). Jobs cannot hand files to one another, so
 * each task's job runs `rbuild run <task> --only` against the shared remote cache: its deps' outputs
 * come from there, and its own go there. What orders the jobs is one git resource, `source`: every
 * job gets it, a root job triggered by each new commit, a dependent one with `passed:` naming its
 * deps' jobs, so that every job of one run builds the same commit and starts once its deps succeeded
 * on it. A pool becomes a `serial_groups` tag (one at a time, whatever the pool's size: Concourse has
 * no counted limit across jobs), and an impure task's job is started by hand (no `trigger:`). A
 * task's retries stay rbuild's, inside its step (no `attempts:`). Stages: stages.ts.
 *
 * Output is deterministic: jobs by depth in the graph, then by name; keys in a fixed order. Every
 * rendered pipeline is validated; one that is not valid is a bug here, and throws.
 *
 * Vars left for `fly set-pipeline` (`-v`) or the credential manager: `((source-uri))`,
 * `((source-branch))` and `((rbuild-cache-token))` (the cache token never appears in the file).
 */
import { Document, isMap, isSeq, type YAMLMap } from "yaml";
import { validatePipeline, formatErrors, formatWarnings } from "../validate/index.js";
import { imageResource } from "./image.js";
import { compare, uniqueNames } from "./names.js";
import type { PipelineStage, PipelineTask, RenderOptions } from "./pipeline-task.js";
import { passedTasks, stageGroups, stageWaits, type GroupConfig } from "./stages.js";

/** The resource every job gets: the workspace's repository at one commit. */
export const SOURCE_RESOURCE = "source";

/** A rendered pipeline: its YAML text, the config it holds, and the job of each task. */
export interface RenderedPipeline {
  readonly yaml: string;
  readonly config: PipelineConfig;
  /** Task name -> job name, for the tasks that have a job (groups have none). */
  readonly jobs: ReadonlyMap<string, string>;
}

export interface PipelineConfig {
  readonly resources: readonly unknown[];
  readonly jobs: readonly JobConfig[];
  /** A tab per stage (stages.ts); absent when the Buildfile declares none. */
  readonly groups?: readonly GroupConfig[];
}

interface JobConfig {
  readonly name: string;
  readonly serial_groups?: readonly string[];
  readonly plan: readonly unknown[];
}

/** Why the tasks cannot be rendered (a usage problem, not a bug), or the pipeline. */
export type RenderResult = { readonly ok: true; readonly value: RenderedPipeline } | { readonly ok: false; readonly error: string };

/** The pipeline of `tasks` (and of their `stages`, see stages.ts), or why there is none. */
export function renderPipeline(tasks: readonly PipelineTask[], options: RenderOptions, stages: readonly PipelineStage[] = []): RenderResult {
  const byName = new Map(tasks.map((task) => [task.name, task]));
  const working = tasks.filter((task) => !task.group);
  if (working.length === 0) return { ok: false, error: "There is nothing to render: the tasks given are groups only, with no task that runs a command." };
  const images = new Map<string, ReturnType<typeof imageResource>>();
  for (const ref of new Set([options.image, ...working.flatMap((task) => (task.image === undefined ? [] : [task.image]))])) {
    const image = imageResource(ref);
    if (image === undefined) return { ok: false, error: `"${ref}" is not a container image reference; give one such as node:20 or registry.example:5000/acme/ci:1.2.` };
    images.set(ref, image);
  }
  const names = uniqueNames(working.map((task) => task.name));
  const poolNames = uniqueNames(working.flatMap((task) => (task.pool === undefined ? [] : [task.pool])));

  // A group's dependents wait for the tasks it groups (through groups of groups too).
  const runsOf = (names: readonly string[], of: string): string[] => {
    const found = new Set<string>();
    const walk = (deps: readonly string[]): void => {
      for (const dep of deps) {
        const depTask = byName.get(dep);
        if (depTask === undefined) throw new Error(`Internal error: ${of} waits for "${dep}", which is not among the tasks to render`);
        if (depTask.group) walk(depTask.deps);
        else found.add(dep);
      }
    };
    walk(names);
    return [...found];
  };
  const upstream = (task: PipelineTask): string[] => runsOf(task.deps, `task "${task.name}"`);
  const afterStages = stageWaits(stages, (names) => runsOf(names, "a stage"));
  const stageAfter = (task: PipelineTask): readonly string[] => (task.stage === undefined ? [] : (afterStages.get(task.stage) ?? []));
  // Every task a task waits for (its deps, the tasks of the stages its stage follows), transitively.
  const reached = new Map<string, ReadonlySet<string>>();
  const reach = (name: string): ReadonlySet<string> => {
    const known = reached.get(name);
    if (known !== undefined) return known;
    const task = byName.get(name)!;
    const direct = [...upstream(task), ...stageAfter(task)];
    const value = new Set(direct.flatMap((dep) => [dep, ...reach(dep)]));
    reached.set(name, value);
    return value;
  };
  const waitsFor = (task: PipelineTask): string[] => passedTasks(upstream(task), stageAfter(task), reach);
  const depth = new Map<string, number>();
  const depthOf = (task: PipelineTask): number => {
    const known = depth.get(task.name);
    if (known !== undefined) return known;
    const value = Math.max(0, ...waitsFor(task).map((dep) => depthOf(byName.get(dep)!) + 1));
    depth.set(task.name, value);
    return value;
  };
  const ordered = [...working].sort((a, b) => depthOf(a) - depthOf(b) || compare(names.get(a.name)!, names.get(b.name)!));

  const runDir = options.dir === undefined || options.dir === "" ? SOURCE_RESOURCE : `${SOURCE_RESOURCE}/${options.dir}`;
  const jobs: JobConfig[] = ordered.map((task) => {
    const job = names.get(task.name)!;
    const passed = waitsFor(task).map((dep) => names.get(dep)!).sort(compare);
    const get = { get: SOURCE_RESOURCE, ...(passed.length === 0 ? {} : { passed }), ...(task.pure ? { trigger: true } : {}) };
    const image = images.get(task.image ?? options.image)!;
    // No `attempts:`: rbuild retries the task inside the step, as its `retries`, `retryDelay` and
    // `retryOn` say; Concourse's attempts would retry any failure at once, and each of them again.
    const step = {
      task: job,
      config: {
        platform: "linux",
        image_resource: image,
        inputs: [{ name: SOURCE_RESOURCE }],
        // CI: rbuild's CI mode (plain grouped output, no daemon left behind in the job's container).
        params: { CI: "true", RBUILD_REMOTE_CACHE: options.remote, RBUILD_TOKEN: "((rbuild-cache-token))" },
        run: { path: "rbuild", args: ["run", task.name, "--only"], dir: runDir },
      },
    };
    return { name: job, ...(task.pool === undefined ? {} : { serial_groups: [poolNames.get(task.pool)!] }), plan: [get, step] };
  });
  const groups = stageGroups(stages, jobs.map((job) => job.name), new Map(ordered.map((task) => [names.get(task.name)!, task.stage])));
  const config: PipelineConfig = {
    resources: [{ name: SOURCE_RESOURCE, type: "git", source: { uri: "((source-uri))", branch: "((source-branch))" } }],
    jobs,
    ...(groups.length === 0 ? {} : { groups }),
  };

  const validation = validatePipeline(config, { strict: true });
  if (validation.errors.length > 0 || validation.warnings.length > 0) {
    throw new Error(`Internal error: the rendered pipeline is not valid:\n${formatErrors(validation.errors)}${formatWarnings(validation.warnings)}`);
  }
  const jobOf = new Map(working.map((task) => [task.name, names.get(task.name)!]));
  return { ok: true, value: { yaml: toYaml(config, ordered), config, jobs: jobOf } };
}

const HEADER = [
  " Rendered by `rbuild concourse render`: render it again rather than edit it.",
  " Each job runs one task with `rbuild run <task> --only`, its deps' outputs taken from the remote cache.",
  " Vars: ((source-uri)) and ((source-branch)), the repository to build (fly set-pipeline -v);",
  " ((rbuild-cache-token)), the cache's token, from the credential manager.",
].join("\n");

/** The YAML text, with the header and a `# task: <name>` comment above each job. */
function toYaml(config: PipelineConfig, tasks: readonly PipelineTask[]): string {
  const document = new Document(config, { aliasDuplicateObjects: false });
  document.commentBefore = HEADER;
  const jobs = document.get("jobs");
  if (!isSeq(jobs)) throw new Error("Internal error: no jobs in the rendered document");
  jobs.items.forEach((item, i) => {
    if (isMap(item)) (item as YAMLMap).commentBefore = ` task: ${tasks[i]!.name}`;
  });
  return document.toString({ lineWidth: 0 });
}
