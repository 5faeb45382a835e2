/** The Buildfile API's option checks that name the field and the accepted range: retries, retryOn, a pool's declaration. */
import { expect, test } from "vitest";
import { describeFailure, pool, task, type TaskOptions } from "@rbuild/core";
import { defineTasks } from "./define.js";

const ROOT = "/work/ws";

/** Every failure message of defining these tasks, with its location as `<line>` when it is this file's. */
function problems(tasks: readonly ReturnType<typeof task>[]): string[] {
  const defs = defineTasks(tasks, ROOT);
  if (defs.ok) return [];
  return defs.error.map((f) => describeFailure(f, { cwd: ROOT }).replace(/^.*input-checks\.test\.ts:(\d+):\d+: /, "<line $1> "));
}

const line = (): number => Number(/input-checks\.test\.ts:(\d+):/.exec(new Error().stack!.split("\n")[2]!)![1]);

test("H.3: absurd retries are refused, naming the task, the field and the range; 0 and 100 are fine", () => {
  const impure = (name: string, retries: number): TaskOptions => ({ name, pure: false, retries, run: "x" });
  const here = line() + 1;
  const tasks = [task(impure("huge", 1e9)), task(impure("negative", -1)), task(impure("half", 1.5)), task(impure("zero", 0)), task(impure("most", 100)), task(impure("over", 101))];
  expect(problems(tasks)).toEqual([
    `<line ${here}> Task "huge": \`retries\` must be a whole number of retries from 0 to 100, got 1000000000`,
    `<line ${here}> Task "negative": \`retries\` must be a whole number of retries from 0 to 100, got -1`,
    `<line ${here}> Task "half": \`retries\` must be a whole number of retries from 0 to 100, got 1.5`,
    `<line ${here}> Task "over": \`retries\` must be a whole number of retries from 0 to 100, got 101`,
  ]);
});

test("H.3: retryOn: [] is refused: it would retry on no exit code, so the retries could never happen", () => {
  const here = line() + 1;
  expect(problems([task({ name: "never", pure: false, retries: 2, retryOn: [], run: "x" })])).toEqual([
    `<line ${here}> Task "never": \`retryOn\` must list at least one exit code (whole numbers from 1 to 255), e.g. [75]; leave it out to retry on any failure`,
  ]);
});

test("H.3: a pool whose name has whitespace is refused where pool() declared it, naming the pool, once for all its tasks", () => {
  const here = line() + 1;
  const spaced = pool("my pool", { size: 1 });
  const tabbed = pool("a\tb", { size: 1 });
  const empty = pool("", { size: 1 });
  const tasks = [task({ name: "a", pure: false, pool: spaced, run: "x" }), task({ name: "b", pure: false, pool: spaced, run: "x" }), task({ name: "c", pure: false, pool: tabbed, run: "x" }), task({ name: "d", pure: false, pool: empty, run: "x" })];
  const rule = "must be a non-empty name of at most 200 characters without whitespace or control characters (it is typed in `rbuild pool` commands)";
  expect(problems(tasks)).toEqual([
    `<line ${here}> Pool "my pool": its name ${rule}, got "my pool"`,
    `<line ${here + 1}> Pool "a\tb": its name ${rule}, got "a\\tb"`,
    `<line ${here + 2}> Pool "": its name ${rule}, got ""`,
  ]);
});

test("H.3: a pool's size and `shared` are refused where pool() declared it too, naming the pool", () => {
  const here = line() + 1;
  const zero = pool("zero", { size: 0 });
  const half = pool("half", { size: 1.5 });
  const yes = pool("yes", { size: 1, shared: "yes" as unknown as boolean });
  const tasks = [task({ name: "a", pure: false, pool: zero, run: "x" }), task({ name: "b", pure: false, pool: half, run: "x" }), task({ name: "c", pure: false, pool: yes, run: "x" })];
  expect(problems(tasks)).toEqual([
    `<line ${here}> Pool "zero": its size must be a positive whole number, got 0`,
    `<line ${here + 1}> Pool "half": its size must be a positive whole number, got 1.5`,
    `<line ${here + 2}> Pool "yes": its \`shared\` must be true or false, got "yes"`,
  ]);
});
