import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { busyboxRootfs, fileDigest, tarOf, writeDockerArchive, writeFiles, writeOciLayout } from "../../../test-support/oci-image.js";
import { runnerConformance } from "../../../test-support/runner-conformance.js";
import { runnerBed } from "../../../test-support/runner-bed.js";
import { identifyImage, type ImageSource } from "./image/image-source.js";
import { RunnerChoice } from "./runner-choice.js";
import type { RunOutcome, RunRequest, Runner } from "./runner.js";

const bed = runnerBed("rbuild-container-test-", () => new RunnerChoice());

function identified(path: string): ImageSource {
  const found = identifyImage(path);
  if (!found.ok) throw new Error(found.message);
  return found.image;
}

/** A busybox image with a marker file, as an OCI layout under `dir`. */
function busyboxLayout(dir: string, marker = "from the image\n"): string {
  const rootfs = busyboxRootfs(mkdtempSync(join(tmpdir(), "rbuild-rootfs-")), { "etc/image-marker": marker });
  writeOciLayout(dir, [tarOf(rootfs)], ["IMAGE_VAR=from-config", "PATH=/bin"]);
  rmSync(rootfs, { recursive: true, force: true });
  return dir;
}

function run(command: string, image: ImageSource, fields: Partial<RunRequest> = {}) {
  return bed.run(command, { env: { PATH: "/bin", TASK_VAR: "from-task" }, image: { source: image, storeDir: join(bed.root, ".rbuild") }, ...fields });
}

const ran: RunOutcome = { ok: true, exitCode: 0, produced: { kind: "in-place" } };

test("27.2: a task runs in a busybox OCI layout: the image's files, a declared input, an output moved back", async () => {
  const image = identified(busyboxLayout(join(bed.root, "image")));
  writeFiles(bed.root, { "src/in.txt": "input\n", "src/secret.txt": "undeclared\n" });
  const result = await run(
    "cat /etc/image-marker src/in.txt; test -e /etc/os-release || echo no os-release; test -e src/secret.txt || echo no secret; echo $IMAGE_VAR $TASK_VAR; busybox | head -1 | cut -d' ' -f1; mkdir -p out && echo made > out/o.txt",
    image,
    { inputs: ["src/in.txt"], outputs: ["out/**"] },
  );
  expect(result).toEqual({ outcome: ran, stdout: "from the image\ninput\nno os-release\nno secret\nfrom-config from-task\nBusyBox\n", stderr: "" });
  expect(readFileSync(join(bed.root, "out/o.txt"), "utf8")).toBe("made\n");
});

test("27.2: a docker-save tarball runs the same way, its digest the tarball's", async () => {
  const rootfs = busyboxRootfs(join(bed.root, "rootfs"), { "etc/image-marker": "docker\n" });
  writeDockerArchive(join(bed.root, "image.tar"), join(bed.root, "staging"), [tarOf(rootfs)], ["IMAGE_VAR=docker-config"]);
  const image = identified(join(bed.root, "image.tar"));
  expect(image).toEqual({ kind: "docker-archive", path: join(bed.root, "image.tar"), digest: fileDigest(join(bed.root, "image.tar")), files: [join(bed.root, "image.tar")] });
  const result = await run("cat /etc/image-marker; echo $IMAGE_VAR", image);
  expect(result).toEqual({ outcome: ran, stdout: "docker\ndocker-config\n", stderr: "" });
});

test("27.2: a root filesystem directory is an image too, identified by its tree", async () => {
  busyboxRootfs(join(bed.root, "rootfs"), { "etc/image-marker": "dir\n" });
  const before = identified(join(bed.root, "rootfs"));
  expect(before.kind).toBe("rootfs");
  expect(await run("cat /etc/image-marker", before)).toEqual({ outcome: ran, stdout: "dir\n", stderr: "" });
  writeFileSync(join(bed.root, "rootfs/etc/image-marker"), "changed\n");
  const after = identified(join(bed.root, "rootfs"));
  expect(after.digest).not.toBe(before.digest);
  expect(await run("cat /etc/image-marker", after)).toEqual({ outcome: ran, stdout: "changed\n", stderr: "" });
});

test("27.2: the image is unpacked once into the store for two tasks, named by its manifest digest", async () => {
  const image = identified(busyboxLayout(join(bed.root, "image")));
  expect(await run("true", image)).toEqual({ outcome: ran, stdout: "", stderr: "" });
  expect(await run("true", image, { task: "u" })).toEqual({ outcome: ran, stdout: "", stderr: "" });
  expect(readdirSync(join(bed.root, ".rbuild/images"))).toEqual([image.digest.slice("sha256:".length)]);
});

test("27.2: whiteouts of an upper layer remove a file and empty a directory of the lower one", async () => {
  const lower = busyboxRootfs(join(bed.root, "lower"), { "etc/gone.txt": "x", "etc/kept.txt": "kept\n", "opaque/old.txt": "old" });
  const upper = join(bed.root, "upper");
  writeFiles(upper, { "etc/.wh.gone.txt": "", "opaque/.wh..wh..opq": "", "opaque/new.txt": "new\n" });
  writeOciLayout(join(bed.root, "image"), [tarOf(lower), tarOf(upper)]);
  const image = identified(join(bed.root, "image"));
  const result = await run("ls /etc /opaque; cat /etc/kept.txt /opaque/new.txt", image);
  expect(result).toEqual({ outcome: ran, stdout: "/etc:\nkept.txt\n\n/opaque:\nnew.txt\nkept\nnew\n", stderr: "" });
});

test("27.2: a blob whose digest does not match refuses the image, naming the blob", async () => {
  busyboxLayout(join(bed.root, "image"));
  const index = JSON.parse(readFileSync(join(bed.root, "image/index.json"), "utf8")) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(join(bed.root, "image/blobs/sha256", index.manifests[0]!.digest.slice(7)), "utf8")) as { layers: { digest: string }[] };
  const layer = join(bed.root, "image/blobs/sha256", manifest.layers[0]!.digest.slice(7));
  writeFileSync(layer, Buffer.concat([readFileSync(layer), Buffer.alloc(512)]));
  const result = await run("true", identified(join(bed.root, "image")));
  expect(result.outcome).toEqual({
    ok: false,
    exitCode: null,
    failure: {
      reason: "spawn-failed",
      task: "t",
      message: `its image ${join(bed.root, "image")} cannot be used: ${join(bed.root, "image")}: the blob ${layer} should have digest ${manifest.layers[0]!.digest} and has ${fileDigest(layer)}. The image is damaged or was changed in place: build or fetch it again.`,
    },
  });
  expect(existsSync(join(bed.root, ".rbuild/images", index.manifests[0]!.digest.slice(7)))).toBe(false);
});

test("27.2: a missing image, and a file that is no image, are errors that say what to do", () => {
  expect(identifyImage(join(bed.root, "nope"))).toEqual({ ok: false, message: `its image ${join(bed.root, "nope")} does not exist. Build or fetch the image there, or fix \`runner: { image }\` (a path relative to the Buildfile).` });
  writeFileSync(join(bed.root, "notes.txt"), "not an image\n");
  expect(identifyImage(join(bed.root, "notes.txt"))).toEqual({
    ok: false,
    message: `its image ${join(bed.root, "notes.txt")} is not a recognised format (13 bytes, too short for a tar archive): it must be an OCI image layout directory (oci-layout, index.json, blobs/sha256), a \`docker save\` tarball, or a root filesystem directory.`,
  });
});

test("27.2: a layer with a path that climbs out of the root is refused", async () => {
  const evil = join(bed.root, "evil");
  mkdirSync(evil);
  writeFileSync(join(evil, "x"), "x");
  const spawned = await import("node:child_process");
  const tar = spawned.spawnSync("tar", ["-c", "-f", "-", "-C", evil, "--transform", "s,^x,../escaped,", "-P", "x"]);
  writeOciLayout(join(bed.root, "image"), [tar.stdout]);
  const result = await run("true", identified(join(bed.root, "image")));
  expect(result.outcome.ok).toBe(false);
  expect(result.outcome.ok ? "" : (result.outcome.failure as { message: string }).message).toContain('holds the path "../escaped", which leads out of the root filesystem');
  expect(existsSync(join(bed.root, ".rbuild/escaped"))).toBe(false);
});

test("27.2: engine docker without docker or podman says none was found", async () => {
  const image = identified(busyboxLayout(join(bed.root, "image")));
  const { ContainerRunner } = await import("./container-runner.js");
  const { SandboxRunner } = await import("./sandbox-runner.js");
  const sandbox = new SandboxRunner();
  const container = new ContainerRunner(sandbox, "/nonexistent");
  const outcome = await container.run({ task: "t", run: "true", root: bed.root, cwd: bed.root, env: {}, inputs: [], depOutputs: [], outputs: [], image: { source: image, storeDir: join(bed.root, ".rbuild"), engine: "docker" }, signal: new AbortController().signal, stdout: () => {}, stderr: () => {} });
  sandbox.close();
  expect(outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "spawn-failed", task: "t", message: 'it asks for `engine: "docker"`, and no docker or podman is on PATH. Install one (Debian: `apt-get install podman`), or leave `engine` out to run the image with bubblewrap.' } });
});

// The conformance suite, each request given a busybox image (built once, in its own directory).
const shared = mkdtempSync(join(tmpdir(), "rbuild-container-image-"));
const sharedImage = identified(busyboxLayout(join(shared, "image")));
afterAll(() => rmSync(shared, { recursive: true, force: true }));
runnerConformance("container (busybox OCI layout)", () => {
  const choice = new RunnerChoice();
  const withImage: Runner & { close(): void } = {
    run: (request) => choice.run({ ...request, image: { source: sharedImage, storeDir: join(shared, "store") } }),
    close: () => choice.close(),
  };
  return withImage;
});

test("27.2: the local and sandbox runners refuse a container task instead of running it on the host", async () => {
  const image = identified(busyboxLayout(join(bed.root, "image")));
  const { LocalRunner } = await import("./local-runner.js");
  const { SandboxRunner } = await import("./sandbox-runner.js");
  const request: RunRequest = { task: "t", run: "touch ran", root: bed.root, cwd: bed.root, env: {}, inputs: [], depOutputs: [], outputs: [], image: { source: image, storeDir: join(bed.root, ".rbuild") }, signal: new AbortController().signal, stdout: () => {}, stderr: () => {} };
  const local = new LocalRunner();
  const sandbox = new SandboxRunner();
  const outcomes = [await local.run(request), await sandbox.run(request)];
  local.close();
  sandbox.close();
  const refused = (runner: string): RunOutcome => ({
    ok: false,
    exitCode: null,
    failure: { reason: "spawn-failed", task: "t", message: `it runs in the container image ${join(bed.root, "image")}, and ${runner} runs no images. Run it with the build's default runner (RunnerChoice), which sends it to the container runner.` },
  });
  expect(outcomes).toEqual([refused("the local runner"), refused("the sandbox runner")]);
  expect(existsSync(join(bed.root, "ran"))).toBe(false);
});

test("27.2: a gzip-compressed layer with a hard link and a path longer than 100 bytes unpacks whole", async () => {
  const long = `deep/${"d".repeat(60)}/${"e".repeat(60)}/file.txt`;
  const rootfs = busyboxRootfs(join(bed.root, "rootfs"), { [long]: "long\n" });
  const { linkSync } = await import("node:fs");
  linkSync(join(rootfs, long), join(rootfs, "hard.txt"));
  const { gzipSync } = await import("node:zlib");
  writeOciLayout(join(bed.root, "image"), [gzipSync(tarOf(rootfs))]);
  const result = await run(`cat /${long} /hard.txt`, identified(join(bed.root, "image")));
  expect(result).toEqual({ outcome: ran, stdout: "long\nlong\n", stderr: "" });
});

test("27.2: a layer with a relative link that climbs above the root is refused", async () => {
  const evil = join(bed.root, "evil");
  mkdirSync(join(evil, "bin"), { recursive: true });
  const { symlinkSync } = await import("node:fs");
  symlinkSync("../../host-etc", join(evil, "bin", "escape"));
  writeOciLayout(join(bed.root, "image"), [tarOf(evil)]);
  const result = await run("true", identified(join(bed.root, "image")));
  expect(result.outcome).toEqual({
    ok: false,
    exitCode: null,
    failure: {
      reason: "spawn-failed",
      task: "t",
      message: `its image ${join(bed.root, "image")} cannot be used: layer 1 of ${join(bed.root, "image")} holds a link bin/escape -> ../../host-etc, which leads out of the root filesystem: rbuild refuses such an image.`,
    },
  });
});
