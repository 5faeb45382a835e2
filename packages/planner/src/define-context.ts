/** Checks a task's `context` and `incremental` fields (see TaskOptions); the inheritance is context.ts's. */
import type { ContextValue } from "@rbuild/core";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Problem = { field: string; message: string };

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : String(value);
}

/** The task's context as [name, value], sorted by name; problems go to `problems`. */
export function checkContext(value: unknown, problems: Problem[]): [string, ContextValue][] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({ field: "context", message: `must be an object of environment values (strings, or functions of the task's outputs), got ${show(value)}` });
    return [];
  }
  const context: [string, ContextValue][] = [];
  for (const [name, item] of Object.entries(value)) {
    if (!ENV_NAME.test(name)) problems.push({ field: "context", message: `contains ${JSON.stringify(name)}, which is not a valid environment variable name` });
    else if (typeof item === "string" || typeof item === "function") context.push([name, item as ContextValue]);
    else problems.push({ field: "context", message: `must hold strings or functions of the task's outputs, got ${show(item)} for ${JSON.stringify(name)}` });
  }
  return context.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether the task starts warm; only a pure task can (an impure one has no cached result to start from). */
export function checkIncremental(value: unknown, pure: unknown, problems: Problem[]): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    problems.push({ field: "incremental", message: `must be true or false, got ${show(value)}` });
    return false;
  }
  if (value && pure === false) {
    problems.push({ field: "incremental", message: "needs a pure task: an impure task always runs and keeps no result to start from. Remove `incremental` or `pure: false`" });
    return false;
  }
  return value;
}
