/** What a set of targets reaches: the one walk of the dependency graph that planning and target selection share. */
import { err, ok, type Result, type SetupFailure } from "@rbuild/core";
import type { Definitions } from "./graph.js";

const VISITING = 1;
const DONE = 2;
type Mark = typeof VISITING | typeof DONE;

/**
 * The targets' transitive closure (every task they reach, themselves
 * included) in topological order, deps first, or the first cycle found.
 * Iterative, so that long dependency chains cannot overflow the stack. The
 * targets must be defined tasks.
 */
export function closure(defs: Definitions, targets: readonly string[]): Result<string[], SetupFailure> {
  const marks = new Map<string, Mark>();
  const order: string[] = [];
  for (const target of targets) {
    if (marks.has(target)) continue;
    // Each frame is a task and the index of the next dep to visit.
    const stack: [string, number][] = [[target, 0]];
    marks.set(target, VISITING);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const deps = defs.tasks.get(frame[0])!.deps;
      if (frame[1] === deps.length) {
        stack.pop();
        marks.set(frame[0], DONE);
        order.push(frame[0]);
        continue;
      }
      const dep = deps[frame[1]++]!;
      const mark = marks.get(dep);
      if (mark === DONE) continue;
      if (mark === VISITING) {
        const start = stack.findIndex(([name]) => name === dep);
        const path = [...stack.slice(start).map(([name]) => name), dep];
        return err({ reason: "cycle", path, location: defs.tasks.get(dep)?.locate() });
      }
      marks.set(dep, VISITING);
      stack.push([dep, 0]);
    }
  }
  return ok(order);
}
