/**
 * The context values of one build (see @rbuild/planner context.ts): what each
 * task receives from its ancestors, in its env and in its key.
 *
 * A string value is known from the plan. A function value is computed once its
 * task is done (ran, restored or up to date), from a read-only view of its
 * outputs in the workspace, before any task below it starts: they all wait for
 * it. A function may throw (or read what is not one of the task's outputs):
 * its task then fails. A task that receives a computed value is never taken
 * as up to date from its freshness entry, which cannot know the value before
 * the build: it goes the key way, where the value is part of its key.
 */
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { ContextOutputs, TaskFailure } from "@rbuild/core";
import { globMatcher } from "@rbuild/hash";
import type { GraphTask } from "@rbuild/planner";

/** Whether `task` receives a value computed during the build (so its freshness entry cannot vouch for it). */
export function receivesComputedContext(task: Pick<GraphTask, "inherited">): boolean {
  return task.inherited.some((entry) => entry.value === undefined);
}

export class ContextValues {
  readonly #root: string;
  /** The computed values, by the task that computed them, then by name. */
  readonly #computed = new Map<string, Map<string, string>>();

  constructor(root: string) {
    this.#root = root;
  }

  /**
   * Computes the function values of `task`'s own context, now that it is done
   * well; the failure of the task when one throws.
   */
  settle(task: GraphTask): TaskFailure | undefined {
    const computed = new Map<string, string>();
    for (const [name, value] of task.context) {
      if (typeof value === "string") continue;
      try {
        const result: unknown = value(this.#outputsOf(task));
        if (typeof result !== "string") throw new Error(`returned ${result === null ? "null" : typeof result}, not a string`);
        computed.set(name, result);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { reason: "run-threw", task: task.name, message: `its context value ${name} could not be computed: ${message}`, location: task.locate() };
      }
    }
    if (computed.size > 0) this.#computed.set(task.name, computed);
    return undefined;
  }

  /** What `task` receives, as [name, from, value] by name (the key's part). */
  of(task: GraphTask): [string, string, string][] {
    return task.inherited.map(({ name, from, value }) => [name, from, value ?? this.#computed.get(from)?.get(name) ?? ""]);
  }

  /** Puts what `task` receives into its environment `env`, over what it had. */
  addTo(task: GraphTask, env: Record<string, string>): Record<string, string> {
    for (const [name, , value] of this.of(task)) env[name] = value;
    return env;
  }

  #outputsOf(task: GraphTask): ContextOutputs {
    const matches = globMatcher(task.outputs);
    const root = this.#root;
    return {
      read(path: string): string {
        const normal = typeof path === "string" ? posix.normalize(path) : "";
        if (!matches(normal) || normal.startsWith("../")) {
          throw new Error(`read(${JSON.stringify(path)}): not one of the outputs of task "${task.name}" (${task.outputs.map((glob) => `"${glob}"`).join(", ") || "it has none"}); paths are relative to the Buildfile's directory`);
        }
        return readFileSync(join(root, normal), "utf8");
      },
    };
  }
}
