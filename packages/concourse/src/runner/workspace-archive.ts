/**
 * The one-off build's input: a tar.gz of what `rbuild run <task> --only` needs on the worker — the
 * task's declared inputs and the Buildfile's own sources (the Buildfile and what it imports) —
 * under a first entry `./`, as fly's archives (reference concourse.md §2.9). The deps' outputs are
 * not in it: the run there takes them from the remote cache, as `--only` does.
 */
import { spawn } from "node:child_process";
import { isAbsolute, relative, sep } from "node:path";
import { expandGlobs } from "@rbuild/hash";

/**
 * The workspace-relative files the archive holds, sorted: what each task's input globs match (one
 * list per task: a task's "!" globs leave out only its own matches) and `sources` (absolute paths) inside `root`.
 */
export function archiveFiles(root: string, inputs: readonly (readonly string[])[], sources: readonly string[]): string[] {
  const files = new Set(inputs.flatMap((globs) => expandGlobs(root, globs)));
  for (const source of sources) {
    const path = relative(root, source);
    if (path !== "" && !path.startsWith("..") && !isAbsolute(path)) files.add(path.split(sep).join("/"));
  }
  return [...files].sort();
}

/** Packs `files` (relative to `root`) as a tar.gz, with the system tar; rejects with tar's complaint. */
export function packArchive(root: string, files: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tar = spawn("tar", ["-czf", "-", "-C", root, "--no-recursion", "--null", "-T", "-"], { stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let stderr = "";
    tar.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    tar.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    tar.on("error", reject);
    tar.on("close", (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(stderr.trim() || `tar exited with ${code}`))));
    // Directories are listed before their files so that the archive holds them (with --no-recursion, only what is named).
    const dirs = new Set<string>();
    for (const file of files) for (let at = file.indexOf("/"); at !== -1; at = file.indexOf("/", at + 1)) dirs.add(file.slice(0, at));
    tar.stdin.end(["./", ...[...dirs].sort().map((d) => `./${d}`), ...files.map((f) => `./${f}`)].join("\0") + "\0");
  });
}
