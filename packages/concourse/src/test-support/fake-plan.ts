/**
 * How the test double runs a build: a one-off build's `atc.Plan` (reference concourse.md §2.9:
 * `do`, `in_parallel`, `ensure`, the `on_*` hooks, `try`, `artifact_input`, `task`,
 * `artifact_output`) or a job's plan from its pipeline config (its `task` steps with inline
 * configs, and `attempts`; `get` and `put` give a directory of the resource's name, empty or a
 * copy of one the test gave, since the double has no resources). A task's `run` is started locally
 * as a child process in a directory holding its inputs and outputs, with no container and no image:
 * only PATH, the double's `taskEnv` and the task's params reach it.
 * Its output becomes `log` events between `initialize-task`/`start-task` and `finish-task`.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { FakeBuild } from "./fake-builds.js";

export type Outcome = "succeeded" | "failed" | "errored" | "aborted";

export interface PlanContext {
  readonly build: FakeBuild;
  /** A directory of this build's own. */
  readonly workDir: string;
  /** Unix seconds. */
  readonly now: () => number;
  artifactDir(id: number): string | undefined;
  /** What a job's `get` of resource `name` copies, if the test gave a directory for it. */
  resourceDir(name: string): string | undefined;
  /** Environment every task gets besides PATH and its params. */
  readonly taskEnv: Readonly<Record<string, string>>;
  /** Registers `dir` as an artifact of the build (an `artifact_output` step). */
  registerArtifact(name: string, dir: string): number;
}

type Node = Record<string, unknown>;
const isMap = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value);

const WORST: Outcome[] = ["aborted", "errored", "failed", "succeeded"];
const worst = (outcomes: Outcome[]): Outcome => WORST.find((o) => outcomes.includes(o)) ?? "succeeded";

class PlanRun {
  readonly #context: PlanContext;
  /** Artifacts in the build's scope, by name: what later steps see. */
  readonly #artifacts = new Map<string, string>();
  #planIds = 0;

  constructor(context: PlanContext) {
    this.#context = context;
  }

  #error(origin: string | undefined, message: string): Outcome {
    this.#context.build.emit("error", "4.1", { message, origin: origin === undefined ? {} : { id: origin }, time: this.#context.now() });
    return "errored";
  }

  async plan(node: unknown): Promise<Outcome> {
    if (this.#context.build.abortRequested) return "aborted";
    if (!isMap(node)) return this.#error(undefined, "the plan has a step that is not an object");
    const id = typeof node.id === "string" ? node.id : undefined;
    if (Array.isArray(node.do)) {
      for (const step of node.do) {
        const outcome = await this.plan(step);
        if (outcome !== "succeeded") return outcome;
      }
      return "succeeded";
    }
    if (isMap(node.in_parallel)) return worst(await Promise.all(((node.in_parallel.steps as unknown[]) ?? []).map((step) => this.plan(step))));
    for (const hook of ["ensure", "on_success", "on_failure", "on_abort", "on_error"] as const) {
      const wrapper = node[hook];
      if (!isMap(wrapper)) continue;
      const outcome = await this.plan(wrapper.step);
      const runs = { ensure: true, on_success: outcome === "succeeded", on_failure: outcome === "failed", on_abort: outcome === "aborted", on_error: outcome === "errored" }[hook];
      if (!runs) return outcome;
      const after = await this.plan(wrapper[hook]);
      return hook === "ensure" && outcome === "succeeded" ? after : outcome;
    }
    if (isMap(node.try)) {
      const outcome = await this.plan(node.try.step);
      return outcome === "aborted" ? outcome : "succeeded";
    }
    if (isMap(node.artifact_input)) {
      const { artifact_id: artifactId, name } = node.artifact_input;
      const dir = typeof artifactId === "number" ? this.#context.artifactDir(artifactId) : undefined;
      if (dir === undefined) return this.#error(id, `artifact ${String(artifactId)} not found`);
      this.#artifacts.set(String(name), dir);
      return "succeeded";
    }
    if (isMap(node.artifact_output)) {
      const name = String(node.artifact_output.name);
      const dir = this.#artifacts.get(name);
      if (dir === undefined) return this.#error(id, `artifact '${name}' not found`);
      this.#context.registerArtifact(name, dir);
      return "succeeded";
    }
    if (isMap(node.task)) return this.task(id ?? this.#planId(), node.task);
    return this.#error(id, `the test double does not run this step: ${Object.keys(node).filter((k) => k !== "id").join(", ")}`);
  }

  #planId(): string {
    return (0x69b7cd00 + this.#planIds++).toString(16);
  }

  /**
   * A job's plan, as written in its pipeline config. A step's `attempts: N` runs it up to N times
   * while it fails or errors (Concourse's retry step: an abort is not retried).
   */
  async job(steps: readonly Node[]): Promise<Outcome> {
    for (const step of steps) {
      const attempts = typeof step.attempts === "number" && step.attempts > 0 ? step.attempts : 1;
      let outcome: Outcome = "aborted";
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (this.#context.build.abortRequested) return "aborted";
        outcome = await this.#jobStep(step);
        if (outcome === "succeeded" || outcome === "aborted") break;
      }
      if (outcome !== "succeeded") return outcome;
    }
    return "succeeded";
  }

  async #jobStep(step: Node): Promise<Outcome> {
    if (typeof step.task === "string") {
      return isMap(step.config) ? this.task(this.#planId(), { ...step, name: step.task }) : this.#error(this.#planId(), "the test double runs inline task configs only (`config:`, not `file:`)");
    }
    if (typeof step.get === "string" || typeof step.put === "string") {
      const name = String(step.get ?? step.put);
      const dir = join(this.#context.workDir, `resource-${this.#planIds++}`);
      const given = typeof step.get === "string" ? this.#context.resourceDir(String(step.resource ?? name)) : undefined;
      if (given === undefined) mkdirSync(dir, { recursive: true });
      else cpSync(given, dir, { recursive: true });
      this.#artifacts.set(name, dir);
    }
    return "succeeded";
  }

  async task(origin: string, task: Node): Promise<Outcome> {
    const { build, now } = this.#context;
    const config = isMap(task.config) ? task.config : undefined;
    const run = config !== undefined && isMap(config.run) ? config.run : undefined;
    if (config === undefined || run === undefined || typeof run.path !== "string") return this.#error(origin, "the test double runs tasks with an inline config and a run.path only");
    const mapping = (key: string): Record<string, string> => (isMap(task[key]) ? (task[key] as Record<string, string>) : {});
    const dir = mkdtempSync(join(this.#context.workDir, "task-"));
    const inputs = (Array.isArray(config.inputs) ? config.inputs : []).filter(isMap);
    const missing = inputs.filter((input) => input.optional !== true && !this.#artifacts.has(mapping("input_mapping")[String(input.name)] ?? String(input.name)));
    if (missing.length > 0) return this.#error(origin, `missing inputs: ${missing.map((input) => String(input.name)).join(", ")}`);
    for (const input of inputs) {
      const source = this.#artifacts.get(mapping("input_mapping")[String(input.name)] ?? String(input.name));
      if (source !== undefined) cpSync(source, join(dir, String(input.path ?? input.name)), { recursive: true });
    }
    const outputs = (Array.isArray(config.outputs) ? config.outputs : []).filter(isMap);
    for (const output of outputs) mkdirSync(join(dir, String(output.path ?? output.name)), { recursive: true });
    const args = Array.isArray(run.args) ? run.args.map(String) : [];
    const shown = { platform: config.platform, image: "", run: { path: run.path, args, ...(typeof run.dir === "string" ? { dir: run.dir } : {}) }, inputs: inputs.map((i) => ({ name: i.name, path: i.path ?? "" })) };
    build.emit("initialize-task", "4.0", { time: now(), origin: { id: origin }, config: shown });
    build.emit("start-task", "5.0", { time: now(), origin: { id: origin }, config: shown });
    const params = { ...(isMap(config.params) ? config.params : {}), ...(isMap(task.params) ? task.params : {}) };
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...this.#context.taskEnv };
    for (const [key, value] of Object.entries(params)) env[key] = typeof value === "string" ? value : JSON.stringify(value);
    const outcome = await new Promise<Outcome>((resolve) => {
      const child = spawn(run.path as string, args, { cwd: join(dir, typeof run.dir === "string" ? run.dir : ""), env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      build.stop = () => {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      };
      const log = (source: "stdout" | "stderr") => (chunk: Buffer) => build.emit("log", "5.1", { time: now(), origin: { id: origin, source }, payload: chunk.toString("utf8") });
      child.stdout.on("data", log("stdout"));
      child.stderr.on("data", log("stderr"));
      let failed = false;
      child.on("error", (error) => {
        failed = true;
        resolve(this.#error(origin, `exec: "${run.path as string}": ${error.message}`));
      });
      child.on("close", (code) => {
        if (failed) return;
        if (build.abortRequested) return resolve("aborted");
        build.emit("finish-task", "4.0", { time: now(), exit_status: code ?? 255, origin: { id: origin } });
        resolve(code === 0 ? "succeeded" : "failed");
      });
    });
    build.stop = undefined;
    for (const output of outputs) this.#artifacts.set(mapping("output_mapping")[String(output.name)] ?? String(output.name), join(dir, String(output.path ?? output.name)));
    return outcome;
  }
}

/** Runs a one-off build's plan to its outcome. */
export function runPlan(context: PlanContext, plan: unknown): Promise<Outcome> {
  return new PlanRun(context).plan(plan);
}

/** Runs a job build's steps to their outcome. */
export function runJob(context: PlanContext, steps: readonly Record<string, unknown>[]): Promise<Outcome> {
  return new PlanRun(context).job(steps);
}
