/** A problem with one field of a task's options, and how a bad value is named in its message. */
export type Problem = { field: string; message: string };

/** A value as a message names it: a string quoted, a number as it is, anything else by its kind. */
export function show(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}
