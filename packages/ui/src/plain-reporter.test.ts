import { expect, test } from "vitest";
import { BatchedOutput } from "./plain-reporter.js";

/** Two sinks writing into one log, so the order across streams shows. */
function sinks() {
  const writes: string[] = [];
  return { writes, stdout: { write: (t: string) => writes.push(`out:${t}`) }, stderr: { write: (t: string) => writes.push(`err:${t}`) } };
}

test("batched output waits, then writes each stream's run of text at once, in the order written", async () => {
  const { writes, stdout, stderr } = sinks();
  const output = new BatchedOutput(stdout, stderr);
  for (let i = 0; i < 1000; i++) output.stdout.write(`line ${i}\n`);
  output.stderr.write("warning\n");
  output.stdout.write("after\n");
  expect(writes).toEqual([]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(writes).toHaveLength(3);
  expect(writes[0]).toBe(`out:${Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join("")}`);
  expect(writes.slice(1)).toEqual(["err:warning\n", "out:after\n"]);
});

test("flush writes what waits now; a lot waiting is written without waiting", () => {
  const { writes, stdout, stderr } = sinks();
  const output = new BatchedOutput(stdout, stderr);
  output.stderr.write("a\n");
  output.flush();
  expect(writes).toEqual(["err:a\n"]);
  output.stdout.write("x".repeat(70 * 1024));
  expect(writes).toHaveLength(2);
  output.flush();
  expect(writes).toHaveLength(2);
});
