/**
 * A build's plain output in an order that does not depend on which of two
 * independent tasks ended first. Restores from the cache run beside each
 * other (even with -j 1: they are no commands), and with -j 2 or more so do
 * commands, so the order of independent tasks' lines is the machine's, not
 * the build's. Each task's own lines keep their order (`> t`, its `[t] ...`
 * block, its end line), and every line is still there: only whole tasks move.
 *
 * What it cannot keep is an order between tasks (a dep's end before its
 * dependant's start): a test that asserts one asserts it beside, on `endOrder`.
 */
import type { RunResult } from "./workspace.js";

/** The task a plain line is about: its start, output, end or skip line. */
const TASK_LINE = /^(?:> (\S+)$|\[([^\]]+)\] |[✓✗] (\S+) \(|- (\S+) skipped \()/;

function taskOf(line: string): string | undefined {
  const match = TASK_LINE.exec(line);
  return match === null ? undefined : (match[1] ?? match[2] ?? match[3] ?? match[4]);
}

/**
 * The lines of `text` with each run of task lines regrouped: a task's lines
 * together, in their order, the tasks by name. A line about no task (the
 * summary, an info line, a stage's rule, the empty end after the last newline)
 * stays where it is, and no task line moves across it.
 */
export function byTask(text: string): string;
/** The same for a run's stdout and stderr. */
export function byTask(result: RunResult): RunResult;
export function byTask(output: string | RunResult): string | RunResult {
  if (typeof output !== "string") return { ...output, stdout: byTask(output.stdout), stderr: byTask(output.stderr) };
  const out: string[] = [];
  let run = new Map<string, string[]>();
  const flush = (): void => {
    for (const name of [...run.keys()].sort()) out.push(...run.get(name)!);
    run = new Map();
  };
  for (const line of output.split("\n")) {
    const task = taskOf(line);
    if (task === undefined) {
      flush();
      out.push(line);
      continue;
    }
    const lines = run.get(task);
    if (lines === undefined) run.set(task, [line]);
    else lines.push(line);
  }
  flush();
  return out.join("\n");
}

/** The tasks of `text` in the order their end (or skip) lines came: for asserting what must come before what. */
export function endOrder(text: string): string[] {
  return text.split("\n").flatMap((line) => {
    const task = /^(?:[✓✗] |- )/.test(line) ? taskOf(line) : undefined;
    return task === undefined ? [] : [task];
  });
}
