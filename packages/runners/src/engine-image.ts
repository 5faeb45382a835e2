/**
 * A container task's image in a docker or podman engine (`engine: "docker"`): loaded once per image
 * digest per engine, and named `rbuild-image:<digest prefix>` there, so that the next task (and the next
 * build) finds it with `image inspect` and loads nothing.
 *
 * How each kind of image source (image/image-source.ts) gets in:
 * - a `docker save` tarball: `load -i` it as it is;
 * - an OCI image layout directory: packed (its oci-layout, index.json and blobs) as an OCI archive tar
 *   and loaded: docker 25 and later, and podman, load those;
 * - a root filesystem directory: packed as a tar and `import`ed (an image of one layer, no config).
 * A loaded image is then tagged with rbuild's name (`load` prints the name or the id it loaded).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { ImageSource } from "./image/image-source.js";

/** How many hex digits of the image's digest rbuild's tag for it keeps. */
const TAG_DIGITS = 16;

export type Loaded = { readonly ok: true; readonly ref: string } | { readonly ok: false; readonly message: string };

/** The engine's environment: the user's (DOCKER_HOST, CONTAINER_HOST and their config), not the task's. */
export type EngineEnv = Readonly<Record<string, string | undefined>>;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `file args` to its end, with its output (never throws: a program that cannot start is exit 127). */
export function runProgram(file: string, args: readonly string[], env: EngineEnv): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 127;
      resolve({ code, stdout: String(stdout), stderr: String(stderr === "" && error !== null && typeof error.code !== "number" ? error.message : stderr) });
    });
  });
}

/** The name rbuild gives image `source` in an engine. */
export function engineTag(source: ImageSource): string {
  return `rbuild-image:${source.digest.replace(/^sha256:/, "").slice(0, TAG_DIGITS)}`;
}

/** What the last `Loaded image: REF` or `Loaded image ID: ID` line of `load`'s output names (podman's `Loaded image(s): A,B` too). */
export function loadedName(stdout: string): string | undefined {
  const lines = stdout.split("\n").map((line) => /^Loaded image(?: ID)?(?:\(s\))?: *(\S+)/.exec(line.trim())?.[1]).filter((name) => name !== undefined);
  return lines.at(-1)?.split(",")[0];
}

/** Loads `source` into `engine` unless it is there already (see above); the ref to run it by. */
export async function loadImage(engine: string, source: ImageSource, env: EngineEnv): Promise<Loaded> {
  const ref = engineTag(source);
  const name = basename(engine);
  const there = await runProgram(engine, ["image", "inspect", "--format", "{{.Id}}", ref], env);
  if (there.code === 0) return { ok: true, ref };
  const failed = (what: string, ran: Ran): Loaded => ({
    ok: false,
    message: `its image ${source.path} could not be loaded into ${name}: \`${what}\` exited with ${ran.code}${ran.stderr.trim() === "" ? "" : `: ${ran.stderr.trim().split("\n").slice(-3).join(" ")}`}. Check that \`${name} info\` works, or leave \`engine\` out to run the image with bubblewrap.`,
  });
  const staging = mkdtempSync(join(tmpdir(), "rbuild-engine-image-"));
  try {
    let archive = source.path;
    if (source.kind !== "docker-archive") {
      archive = join(staging, "image.tar");
      const members = source.kind === "oci-layout" ? ["oci-layout", "index.json", "blobs"] : ["."];
      const packed = await runProgram("tar", ["-c", "-f", archive, "-C", source.path, ...members], process.env);
      if (packed.code !== 0) return failed(`tar -c -f ${archive} -C ${source.path}`, packed);
    }
    if (source.kind === "rootfs") {
      const imported = await runProgram(engine, ["import", archive, ref], env);
      return imported.code === 0 ? { ok: true, ref } : failed(`${name} import ${archive} ${ref}`, imported);
    }
    const loaded = await runProgram(engine, ["load", "-i", archive], env);
    if (loaded.code !== 0) return failed(`${name} load -i ${archive}`, loaded);
    const what = loadedName(loaded.stdout);
    if (what === undefined) return failed(`${name} load -i ${archive}`, { ...loaded, stderr: `it printed no "Loaded image" line (it printed ${JSON.stringify(loaded.stdout.trim())})` });
    const tagged = await runProgram(engine, ["tag", what, ref], env);
    return tagged.code === 0 ? { ok: true, ref } : failed(`${name} tag ${what} ${ref}`, tagged);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
