/**
 * The container runner: a task with `runner: { image }` runs under
 * bubblewrap with the image's root filesystem, unpacked once into the store
 * (image/unpack.ts), as its system part instead of the host's directories.
 * The workspace part is the sandbox's (sandbox-tree.ts): the declared
 * inputs and the deps' outputs read-only, at the same absolute paths as in
 * the workspace, the outputs' directories writable, and the outputs
 * collected and moved back the same way.
 *
 * What the task sees: every top-level entry of the image at `/` (read-only;
 * its links as links), a fresh /proc, /dev and /tmp, HOME an empty
 * /tmp/home, no network unless `network: true`. A top-level directory of
 * the image that the workspace's path goes through (`/home` for a
 * workspace in /home/me/app) is left out, so the workspace can be there.
 * Its environment is the image config's `Env` with the task's own over it.
 * The image's Cmd and Entrypoint are not used: the task's `run` is the
 * command, run by the image's /bin/sh; a plain-words command's program is
 * looked up on the PATH inside (a path into the workspace stays as it is).
 *
 * `engine: "docker"` asks for a docker or podman engine instead: rbuild
 * finds one on PATH (docker first), loads the image into it once
 * (engine-image.ts) and runs the task there with the same view of the
 * workspace (engine-run.ts). Neither the engine nor its image id enters the
 * task's key: the image's digest is there already.
 */
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { loadImage, type EngineEnv, type Loaded } from "./engine-image.js";
import { programInImage, runInEngine } from "./engine-run.js";
import { ImageError } from "./image/image-source.js";
import { touchImage, unpackImage, type Unpacked } from "./image/unpack.js";
import { findOnPath, freshArgs, namespaceArgs } from "./bwrap.js";
import type { LocalRunner } from "./local-runner.js";
import type { RunOutcome, RunRequest } from "./runner.js";
import type { SandboxRunner, SystemPart } from "./sandbox-runner.js";

/**
 * How often a running task marks its image used, well inside gc's hour of grace: a task running longer
 * than that, in an image no stored result names yet, keeps it from a gc in another terminal.
 */
const TOUCH_IMAGE_EVERY_MS = 5 * 60 * 1000;

/** Entries of an image's root that the sandbox makes fresh. */
const FRESH = new Set(["proc", "dev", "tmp"]);

/** The system part of a container sandbox (see above). */
export function imageSystem(unpacked: Unpacked, request: RunRequest): SystemPart {
  const binds: string[] = [];
  const top = request.root.split("/")[1] ?? "";
  for (const name of readdirSync(unpacked.rootfs).sort()) {
    if (FRESH.has(name) || name === top) continue;
    const host = join(unpacked.rootfs, name);
    const stats = lstatSync(host);
    if (stats.isSymbolicLink()) binds.push("--symlink", readlinkSync(host), `/${name}`);
    else binds.push("--ro-bind", host, `/${name}`);
  }
  return {
    args: (inSandboxHelper) => [...namespaceArgs(request.network === true, inSandboxHelper), ...binds, ...freshArgs(inSandboxHelper)],
    env: unpacked.env,
    program: (program) => programInImage(request.root, program),
  };
}

/** The docker or podman on `searchPath`, if any. */
export function findEngine(searchPath: string): string | undefined {
  return findOnPath(searchPath, "docker") ?? findOnPath(searchPath, "podman");
}

/** What a ContainerRunner needs to run tasks with an engine (`engine: "docker"`). */
export interface EngineOptions {
  /** The runner the engine's client starts through (the sandbox runner's). */
  readonly local: LocalRunner;
  /** The engine client's environment (default: this process's). */
  readonly env?: EngineEnv;
}

export class ContainerRunner {
  readonly #sandbox: SandboxRunner;
  readonly #searchPath: string;
  readonly #touchEveryMs: number;
  readonly #engine: EngineOptions | undefined;
  /**
   * The images being loaded into an engine, by engine and digest: tasks that start meanwhile wait for
   * the one load. Once it is done, each task asks the engine again (`image inspect`: one may remove it).
   */
  readonly #loads = new Map<string, Promise<Loaded>>();

  constructor(sandbox: SandboxRunner, searchPath = process.env.PATH ?? "", touchEveryMs = TOUCH_IMAGE_EVERY_MS, engine?: EngineOptions) {
    this.#sandbox = sandbox;
    this.#searchPath = searchPath;
    this.#touchEveryMs = touchEveryMs;
    this.#engine = engine;
  }

  run(request: RunRequest): Promise<RunOutcome> | RunOutcome {
    const image = request.image;
    if (image === undefined) throw new Error(`bug: task "${request.task}" reached the container runner without an image`);
    const failed = (message: string): RunOutcome => ({ ok: false, exitCode: null, failure: { reason: "spawn-failed", task: request.task, message } });
    if (image.engine === "docker") {
      const engine = findEngine(this.#searchPath);
      if (engine === undefined) return failed(`it asks for \`engine: "docker"\`, and no docker or podman is on PATH. Install one (Debian: \`apt-get install podman\`), or leave \`engine\` out to run the image with bubblewrap.`);
      return this.#runInEngine(request, engine);
    }
    let unpacked: Unpacked;
    try {
      unpacked = unpackImage(image.storeDir, image.source);
    } catch (error) {
      if (error instanceof ImageError) return failed(`its image ${image.source.path} cannot be used: ${error.message}`);
      throw error;
    }
    return this.#runMarkingUse(request, unpacked);
  }

  /** Runs the task with `engine`, its image loaded there first unless it is there (see #loads). */
  async #runInEngine(request: RunRequest, engine: string): Promise<RunOutcome> {
    if (this.#engine === undefined) throw new Error("bug: a ContainerRunner made without EngineOptions was given an engine task");
    const { local, env = process.env } = this.#engine;
    const source = request.image!.source;
    const key = `${engine}\0${source.digest}`;
    let load = this.#loads.get(key);
    if (load === undefined) {
      load = loadImage(engine, source, env).finally(() => this.#loads.delete(key));
      this.#loads.set(key, load);
    }
    const loaded = await load;
    if (!loaded.ok) return { ok: false, exitCode: null, failure: { reason: "spawn-failed", task: request.task, message: loaded.message } };
    return runInEngine(local, request, engine, loaded.ref, env);
  }

  /** Runs the task in the image, marking the image used every few minutes and once more at the end (see TOUCH_IMAGE_EVERY_MS). */
  async #runMarkingUse(request: RunRequest, unpacked: Unpacked): Promise<RunOutcome> {
    const { storeDir, source } = request.image!;
    const timer = setInterval(() => touchImage(storeDir, source.digest), this.#touchEveryMs);
    timer.unref();
    try {
      return await this.#sandbox.runIn(request, imageSystem(unpacked, request));
    } finally {
      clearInterval(timer);
      touchImage(storeDir, source.digest);
    }
  }
}
