/**
 * `engine: "docker"` (issue 27.2): container tasks run by a docker engine, here the fake docker of
 * test-support/fake-docker (no engine runs on this machine), which runs containers for real under
 * bubblewrap from the images it was given.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, expect, test } from "vitest";
import { fakeDocker, type FakeDocker } from "../../../test-support/fake-docker/fake-docker.js";
import { busyboxRootfs, tarOf, writeDockerArchive, writeFiles, writeOciLayout } from "../../../test-support/oci-image.js";
import { runnerBed } from "../../../test-support/runner-bed.js";
import { runnerConformance } from "../../../test-support/runner-conformance.js";
import { ContainerRunner } from "./container-runner.js";
import { userArgs } from "./engine-run.js";
import { identifyImage, type ImageSource } from "./image/image-source.js";
import { LocalRunner } from "./local-runner.js";
import type { RunOutcome, RunRequest, Runner } from "./runner.js";
import { SandboxRunner } from "./sandbox-runner.js";

let docker: FakeDocker;
beforeEach(() => {
  docker = fakeDocker();
});
afterEach(() => docker.remove());

/** A container runner whose engine is the fake docker. */
function engineRunner(): Runner & { close(): void } {
  const local = new LocalRunner();
  const sandbox = new SandboxRunner({ local });
  const container = new ContainerRunner(sandbox, docker.env.PATH, undefined, { local, env: { ...process.env, ...docker.env } });
  return { run: (request) => Promise.resolve(container.run(request)), close: () => local.close() };
}

const bed = runnerBed("rbuild-engine-test-", engineRunner);

function identified(path: string): ImageSource {
  const found = identifyImage(path);
  if (!found.ok) throw new Error(found.message);
  return found.image;
}

/** A busybox image with /etc/image-marker, as an OCI layout at `dir`. */
function busyboxLayout(dir: string, marker = "from the image\n"): ImageSource {
  const rootfs = busyboxRootfs(mkdtempSync(join(tmpdir(), "rbuild-rootfs-")), { "etc/image-marker": marker });
  writeOciLayout(dir, [tarOf(rootfs)], ["IMAGE_VAR=from-config", "PATH=/bin"]);
  rmSync(rootfs, { recursive: true, force: true });
  return identified(dir);
}

function run(command: string, image: ImageSource, fields: Partial<RunRequest> = {}) {
  return bed.run(command, { env: { PATH: "/bin", TASK_VAR: "from-task" }, image: { source: image, storeDir: join(bed.root, ".rbuild"), engine: "docker" }, ...fields });
}

const ran: RunOutcome = { ok: true, exitCode: 0, produced: { kind: "in-place" } };
const tag = (image: ImageSource): string => `rbuild-image:${image.digest.slice("sha256:".length, "sha256:".length + 16)}`;
/** The calls but `run`'s, whose arguments hold temp paths: those by their first few. */
const shape = (calls: string[][]): string[][] => calls.map((call) => (call[0] === "run" ? call.slice(0, 7) : call.map((arg) => arg.replace(/\/tmp\/rbuild-engine-image-[^/]+/, "<tmp>"))));

test("27.2: engine docker runs a task in the loaded image: its files and Env, a declared input, an output moved back, no network", async () => {
  const image = busyboxLayout(join(bed.root, "image"));
  writeFiles(bed.root, { "src/in.txt": "input\n", "src/secret.txt": "undeclared\n" });
  const result = await run(
    "cat /etc/image-marker src/in.txt; test -e src/secret.txt || echo no secret; echo $IMAGE_VAR $TASK_VAR $HOME; grep -c : /proc/net/dev; id -u; mkdir -p out && echo made > out/o.txt",
    image,
    { inputs: ["src/in.txt"], outputs: ["out/**"] },
  );
  expect(result).toEqual({ outcome: ran, stdout: `from the image\ninput\nno secret\nfrom-config from-task /tmp\n1\n${process.getuid!()}\n`, stderr: "" });
  expect(readFileSync(join(bed.root, "out/o.txt"), "utf8")).toBe("made\n");
  expect(shape(docker.calls())).toEqual([
    ["image", "inspect", "--format", "{{.Id}}", tag(image)],
    ["load", "-i", "<tmp>/image.tar"],
    // What `load` printed: `Loaded image ID: sha256:<the config's digest>`.
    ["tag", expect.stringMatching(/^sha256:[0-9a-f]{64}$/), tag(image)],
    ["run", "--rm", "--network", "none", "--user", `${process.getuid!()}:${process.getgid!()}`, "-v"],
  ]);
  const runCall = docker.calls()[3]!;
  expect(runCall.slice(runCall.indexOf("--name") + 2)).toEqual([tag(image), "/bin/sh", "-c", expect.stringContaining("cat /etc/image-marker")]);
  expect(runCall.filter((arg, at) => runCall[at - 1] === "-v")).toEqual([expect.stringMatching(new RegExp(`:${bed.root}:ro$`)), expect.stringMatching(new RegExp(`:${bed.root}/out$`))]);
  expect(docker.containers()).toEqual([]);
});

test("27.2: engine docker loads the image once for two tasks; network: true runs with the host's", async () => {
  const image = busyboxLayout(join(bed.root, "image"));
  expect(await run("true", image)).toEqual({ outcome: ran, stdout: "", stderr: "" });
  expect(await run("true", image, { task: "u", network: true })).toEqual({ outcome: ran, stdout: "", stderr: "" });
  const calls = docker.calls();
  expect(calls.map((call) => call[0])).toEqual(["image", "load", "tag", "run", "image", "run"]);
  expect(calls[4]).toEqual(["image", "inspect", "--format", "{{.Id}}", tag(image)]);
  expect(calls[5]!.slice(0, 4)).toEqual(["run", "--rm", "--network", "host"]);
});

test("27.2: engine docker loads a docker-save tarball as it is, and imports a root filesystem directory", async () => {
  const rootfs = busyboxRootfs(join(bed.root, "rootfs"), { "etc/image-marker": "dir\n" });
  writeDockerArchive(join(bed.root, "image.tar"), join(bed.root, "staging"), [tarOf(rootfs)], ["IMAGE_VAR=docker-config"]);
  const archive = identified(join(bed.root, "image.tar"));
  expect(await run("cat /etc/image-marker; echo $IMAGE_VAR", archive)).toEqual({ outcome: ran, stdout: "dir\ndocker-config\n", stderr: "" });
  expect(docker.calls()[1]).toEqual(["load", "-i", join(bed.root, "image.tar")]);
  const directory = identified(rootfs);
  expect(await run("cat /etc/image-marker", directory)).toEqual({ outcome: ran, stdout: "dir\n", stderr: "" });
  expect(shape(docker.calls().slice(4))).toEqual([
    ["image", "inspect", "--format", "{{.Id}}", tag(directory)],
    ["import", "<tmp>/image.tar", tag(directory)],
    ["run", "--rm", "--network", "none", "--user", `${process.getuid!()}:${process.getgid!()}`, "-v"],
  ]);
});

test("27.2: engine docker gives back a failing command's exit code", async () => {
  const image = busyboxLayout(join(bed.root, "image"));
  expect(await run("echo failing >&2; exit 3", image)).toEqual({ outcome: { ok: false, exitCode: 3, failure: { reason: "exit-nonzero", task: "t", exitCode: 3 } }, stdout: "", stderr: "failing\n" });
});

test("27.2: engine docker names an undeclared read and a write outside the outputs, as the sandbox does", async () => {
  const image = busyboxLayout(join(bed.root, "image"));
  writeFiles(bed.root, { "src/in.txt": "input\n", "src/secret.txt": "undeclared\n" });
  const read = await run("cat src/secret.txt", image, { inputs: ["src/in.txt"] });
  expect(read.outcome).toEqual({ ok: false, exitCode: 1, failure: { reason: "undeclared-read", task: "t", paths: ["src/secret.txt"], exitCode: 1 } });
  const write = await run("echo x > src/in.txt", image, { inputs: ["src/in.txt"], outputs: ["out/**"] });
  expect(write.outcome).toEqual({ ok: false, exitCode: 1, failure: { reason: "undeclared-write", task: "t", paths: ["src/in.txt"] } });
});

test("27.2: an interrupted engine task's container is removed with rm -f (stopping its client does not stop it)", async () => {
  const image = busyboxLayout(join(bed.root, "image"));
  const controller = new AbortController();
  let stdout = "";
  let finished: RunOutcome | undefined;
  // Resolved once the task has started, or has ended without starting.
  const started = new Promise<void>((resolve) => {
    const outcome = run("echo started; sleep 600", image, {
      signal: controller.signal,
      stdout: (chunk) => {
        stdout += chunk.toString();
        if (stdout.includes("started")) resolve();
      },
    });
    void outcome.then((result) => {
      finished = result.outcome;
      resolve();
    });
  });
  await started;
  expect(finished).toBeUndefined();
  const [container] = docker.containers();
  expect(container).toBeDefined();
  controller.abort();
  while (finished === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(finished.ok).toBe(false);
  expect(docker.calls().at(-1)).toEqual(["rm", "-f", container!.name]);
  expect(docker.containers()).toEqual([]);
  // Gone, or a zombie its new parent has not reaped yet: not running.
  const state = (): string => (existsSync(`/proc/${container!.pid}/stat`) ? readFileSync(`/proc/${container!.pid}/stat`, "utf8").split(") ")[1]![0]! : "gone");
  expect(["gone", "Z"]).toContain(state());
}, 60_000);

test("27.2: an engine that cannot load the image fails the task saying which command failed and what to do", async () => {
  const image = busyboxLayout(join(bed.root, "image"));
  const local = new LocalRunner();
  // Without its FAKE_DOCKER_STATE the fake fails every command, as a docker without its daemon does.
  const runner = new ContainerRunner(new SandboxRunner({ local }), docker.env.PATH, undefined, { local, env: { PATH: docker.env.PATH! } });
  const outcome = await runner.run({ task: "t", run: "true", root: bed.root, cwd: bed.root, env: {}, inputs: [], depOutputs: [], outputs: [], image: { source: image, storeDir: join(bed.root, ".rbuild"), engine: "docker" }, signal: new AbortController().signal, stdout: () => {}, stderr: () => {} });
  local.close();
  expect(outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "spawn-failed", task: "t", message: expect.stringMatching(/^its image .* could not be loaded into docker: `docker load -i .*\/image.tar` exited with 125: fake docker: set FAKE_DOCKER_STATE to its state directory\. Check that `docker info` works, or leave `engine` out to run the image with bubblewrap\.$/) } });
});

test("27.2: a rootless podman is told --userns=keep-id, so the task's uid is the user's outside too; docker and a root podman are not", () => {
  expect([userArgs("/usr/bin/podman", 1000, 1000), userArgs("/usr/bin/podman", 0, 0), userArgs("/usr/bin/docker", 1000, 1000)]).toEqual([
    ["--userns=keep-id", "--user", "1000:1000"],
    ["--user", "0:0"],
    ["--user", "1000:1000"],
  ]);
});

// The runner conformance suite, each request run by the fake docker in a busybox image (built once).
const shared = mkdtempSync(join(tmpdir(), "rbuild-engine-image-"));
const sharedImage = busyboxLayout(join(shared, "image"));
const sharedDocker = fakeDocker();
afterAll(() => {
  sharedDocker.remove();
  rmSync(shared, { recursive: true, force: true });
});
runnerConformance("container (fake docker engine, busybox OCI layout)", () => {
  const local = new LocalRunner();
  const container = new ContainerRunner(new SandboxRunner({ local }), sharedDocker.env.PATH, undefined, { local, env: { ...process.env, ...sharedDocker.env } });
  return {
    run: (request) => Promise.resolve(container.run({ ...request, image: { source: sharedImage, storeDir: join(shared, "store"), engine: "docker" } })),
    close: () => local.close(),
  };
});
