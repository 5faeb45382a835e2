/**
 * `broad-input` (warning): an input glob that reaches where no source is:
 * - files under `node_modules/` (thousands of files hashed, and a reinstall
 *   reruns the task; the lockfile says the same in one file);
 * - the task's own outputs (its key changes each time it runs, so it never
 *   comes from the cache: the saving is its recorded duration);
 * - `.git/` or the store directory, which rbuild never reads: the glob
 *   matches nothing there, whatever the user meant by it.
 */
import { crossingGlobs, splitPatterns, staticBase } from "@rbuild/hash";
import { q, type Hint, type HintRule } from "../hint.js";
import type { TaskFacts } from "../input.js";
import { firstMatching, OutputIndex } from "../output-index.js";
import { within } from "../packages.js";
import { allStats } from "../stats.js";

const NODE_MODULES = /(?:^|\/)node_modules\//;

export const broadInput: HintRule = (input) => {
  const stats = allStats(input.tasks, input.history);
  const readers = input.tasks.filter((task) => task.inputs.length > 0);
  const hints: Hint[] = [];
  for (const task of readers) {
    const files = input.inputFiles.get(task.name) ?? [];
    const vendored = files.filter((path) => NODE_MODULES.test(path));
    if (vendored.length > 0) hints.push(nodeModules(task, vendored));
    for (const glob of splitPatterns(task.inputs).include) {
      const base = staticBase(glob);
      const place = within(base, ".git") ? ".git" : input.storeDir !== undefined && within(base, input.storeDir) ? input.storeDir : undefined;
      if (place !== undefined) hints.push(neverRead(task, glob, place));
    }
  }
  // A task's inputs against its own outputs: on disk, then, for a task not built yet, by the globs alone.
  const own = new Map<string, { input: string | null; output: string; path: string; onDisk: boolean }>();
  const selves = readers.filter((task) => task.outputs.length > 0);
  const index = new OutputIndex(selves);
  for (const task of selves) {
    for (const path of input.inputFiles.get(task.name) ?? []) {
      const writer = index.writersOf(path).find((candidate) => candidate.task === task.name);
      if (writer === undefined) continue;
      own.set(task.name, { input: firstMatching(task.inputs, path) ?? null, output: writer.glob, path, onDisk: true });
      break;
    }
    if (own.has(task.name) || input.outputFiles.has(task.name)) continue;
    const [overlap] = crossingGlobs([{ task: task.name, patterns: task.inputs }], [{ task: task.name, patterns: task.outputs }], { covering: true });
    if (overlap !== undefined) own.set(task.name, { input: overlap.first.glob, output: overlap.second.glob, path: overlap.path, onDisk: false });
  }
  for (const [name, found] of own) {
    const ms = stats.get(name)?.durationMs ?? null;
    hints.push({
      code: "broad-input",
      severity: "warning",
      tasks: [name],
      message: `${q(name)} has an input glob (${JSON.stringify(found.input)}) that matches its own output ${found.path} (${JSON.stringify(found.output)}): each run changes its inputs, so it never comes from the cache`,
      evidence: { task: name, reaches: "own-outputs", input: found.input, output: found.output, path: found.path, onDisk: found.onDisk },
      savingMs: ms,
      fix: `add ${q(`!${found.output}`)} to the inputs of ${q(name)}`,
    });
  }
  return hints;
};

function nodeModules(task: TaskFacts, files: readonly string[]): Hint {
  const first = files[0]!;
  const dir = first.slice(0, first.search(NODE_MODULES) + first.match(NODE_MODULES)![0].length - 1);
  const globs = [...new Set(files.slice(0, 50).map((path) => firstMatching(task.inputs, path)).filter((glob) => glob !== undefined))];
  return {
    code: "broad-input",
    severity: "warning",
    tasks: [task.name],
    message: `${q(task.name)} has input globs (${globs.map((glob) => JSON.stringify(glob)).join(", ")}) that match ${files.length} file${files.length === 1 ? "" : "s"} under ${dir}/, such as ${first}: every one is hashed, and reinstalling reruns the task`,
    evidence: { task: task.name, reaches: "node_modules", globs, files: files.length, examples: files.slice(0, 3) },
    savingMs: null,
    fix: `add "!**/node_modules/**" to the inputs of ${q(task.name)} (the lockfile, as an input, stands for what is installed)`,
  };
}

function neverRead(task: TaskFacts, glob: string, place: string): Hint {
  return {
    code: "broad-input",
    severity: "warning",
    tasks: [task.name],
    message: `${q(task.name)} has an input glob (${JSON.stringify(glob)}) under ${place}/, which rbuild never reads: it matches nothing`,
    evidence: { task: task.name, reaches: place === ".git" ? ".git" : "store", glob },
    savingMs: null,
    fix: `remove ${q(glob)} from the inputs of ${q(task.name)}${place === ".git" ? " (to key on the commit, pass it in through an env variable)" : ""}`,
  };
}
