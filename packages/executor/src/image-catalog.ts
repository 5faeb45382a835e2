/**
 * The container images of one build's tasks (`runner: { image }`), found and
 * identified once each (packages/runners, image/image-source.ts): their
 * digests enter the tasks' keys, the files they were read from enter their
 * freshness entries (a changed image is seen by a stat), and the container
 * runner is handed what was identified. An image is taken to stay as it is
 * for the rest of the build.
 */
import { relative, resolve } from "node:path";
import type { FileHasher } from "@rbuild/hash";
import type { GraphTask } from "@rbuild/planner";
import { identifyImage, type FileDigester, type Identified, type ImageSource } from "@rbuild/runners";

export class ImageCatalog {
  readonly #root: string;
  readonly #digest: FileDigester | undefined;
  readonly #found = new Map<string, Identified>();

  /** `hasher`: the build's, so a root filesystem directory's unchanged files are known by their stats (none: each is read). */
  constructor(root: string, hasher?: FileHasher) {
    this.#root = root;
    this.#digest = hasher === undefined ? undefined : (file, stats) => hasher.digestWithStat(relative(root, file), stats);
  }

  /** The task's image, identified (or why it cannot be); undefined for a task that names none. */
  of(task: Pick<GraphTask, "runner">): Identified | undefined {
    const runner = task.runner;
    if (typeof runner !== "object") return undefined;
    const path = resolve(this.#root, runner.image);
    let found = this.#found.get(path);
    if (found === undefined) this.#found.set(path, (found = identifyImage(path, this.#digest)));
    return found;
  }

  /** The task's image if this build has identified it already (nothing is read): what its history row records. */
  known(task: Pick<GraphTask, "runner">): ImageSource | undefined {
    const runner = task.runner;
    if (typeof runner !== "object") return undefined;
    const found = this.#found.get(resolve(this.#root, runner.image));
    return found?.ok === true ? found.image : undefined;
  }
}
