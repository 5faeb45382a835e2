/**
 * `missing-dep` (error): a task's inputs match a file that another task
 * declares as an output, and it does not depend on that task, directly or
 * through others. The two may run at once (a race), and the reader's key may
 * be taken from a stale or half-written file. Found two ways: the input
 * files on disk (a real file some task writes), and, for a writer that has
 * not been built (no output on disk), the globs themselves when the reader's
 * cover the writer's (any file it writes there is read: `src/**` against
 * `src/gen/**`). Globs that merely could meet (`**\/*.ts` against a `dist/**`
 * that may hold only .js) are no alarm until a real file shows it.
 */
import { crossingGlobs } from "@rbuild/hash";
import { q, type Hint, type HintRule } from "../hint.js";
import { firstMatching, OutputIndex } from "../output-index.js";
import { Reach } from "../reach.js";

interface Found {
  readonly reader: string;
  readonly writer: string;
  readonly input: string | null;
  readonly output: string;
  readonly path: string;
  /** Whether `path` is a file on disk now (else a path both globs match). */
  readonly onDisk: boolean;
  files: number;
}

export const missingDep: HintRule = (input) => {
  const reach = new Reach(input.tasks);
  const writers = [...input.tasks, ...input.outside].filter((task) => task.outputs.length > 0);
  const readers = input.tasks.filter((task) => task.inputs.length > 0);
  const found = new Map<string, Found>();
  const unrelated = (reader: string, writer: string): boolean => reader !== writer && !reach.dependsOn(reader, writer);

  const index = new OutputIndex(writers);
  for (const reader of readers) {
    for (const path of input.inputFiles.get(reader.name) ?? []) {
      for (const writer of index.writersOf(path)) {
        if (!unrelated(reader.name, writer.task)) continue;
        const pair = `${reader.name}\0${writer.task}`;
        const known = found.get(pair);
        if (known !== undefined) known.files++;
        else found.set(pair, { reader: reader.name, writer: writer.task, input: firstMatching(reader.inputs, path) ?? null, output: writer.glob, path, onDisk: true, files: 1 });
      }
    }
  }
  const unbuilt = writers.filter((task) => !input.outputFiles.has(task.name));
  // Covering only: a reader that would read whatever the writer puts there (`src/**` against `src/gen/**`).
  const overlaps =
    unbuilt.length === 0
      ? []
      : crossingGlobs(
          readers.map((task) => ({ task: task.name, patterns: task.inputs })),
          unbuilt.map((task) => ({ task: task.name, patterns: task.outputs })),
          { covering: true },
        );
  for (const overlap of overlaps) {
    const pair = `${overlap.first.task}\0${overlap.second.task}`;
    if (!unrelated(overlap.first.task, overlap.second.task) || found.has(pair)) continue;
    found.set(pair, { reader: overlap.first.task, writer: overlap.second.task, input: overlap.first.glob, output: overlap.second.glob, path: overlap.path, onDisk: false, files: 0 });
  }

  return [...found.values()].map((f): Hint => {
    const backwards = reach.dependsOn(f.writer, f.reader);
    const what = f.onDisk ? `reads ${f.path}` : `has an input glob (${JSON.stringify(f.input)}) that would match a path such as ${f.path}`;
    const message = backwards
      ? `${q(f.reader)} ${what}, an output of ${q(f.writer)} (${JSON.stringify(f.output)}), which depends on ${q(f.reader)}: its key depends on what the last build left there`
      : `${q(f.reader)} ${what}, an output of ${q(f.writer)} (${JSON.stringify(f.output)}), but does not depend on ${q(f.writer)}: the two can run at once, and ${q(f.reader)} may read a stale or half-written file`;
    return {
      code: "missing-dep",
      severity: "error",
      tasks: [f.reader, f.writer],
      message,
      evidence: { reader: f.reader, writer: f.writer, input: f.input, output: f.output, path: f.path, onDisk: f.onDisk, files: f.files },
      savingMs: null,
      fix: backwards ? `add ${q(`!${f.output}`)} to the inputs of ${q(f.reader)}` : `add ${q(f.writer)} to deps of ${q(f.reader)}`,
    };
  });
};
