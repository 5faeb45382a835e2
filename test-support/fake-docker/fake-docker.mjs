/**
 * A test double of the docker CLI, for rbuild's `engine: "docker"` tests on a machine where no engine
 * runs (README.md says what it reproduces and what not). Its "daemon" is the directory $FAKE_DOCKER_STATE:
 *
 * - calls.log: each invocation's arguments, one JSON array a line, appended;
 * - images/<id>/rootfs and images/<id>/env.json: an image, its layers extracted in order, and its config's Env;
 * - tags.json: { "<name>:<tag>": "sha256:<id>" };
 * - containers/<name>.json: { pid } of a running container, whose process group is the container.
 *
 * A container runs under bubblewrap in its own process group, as a real container runs in the daemon:
 * killing this client does not stop it; `rm -f NAME` does.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

const state = process.env.FAKE_DOCKER_STATE;
if (state === undefined || state === "") fail("fake docker: set FAKE_DOCKER_STATE to its state directory", 125);
mkdirSync(join(state, "images"), { recursive: true });
mkdirSync(join(state, "containers"), { recursive: true });
const argv = process.argv.slice(2);
appendFileSync(join(state, "calls.log"), `${JSON.stringify(argv)}\n`);

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function sha256Hex(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

function readJson(file, fallback) {
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : fallback;
}

function tags() {
  return readJson(join(state, "tags.json"), {});
}

function setTag(ref, id) {
  writeFileSync(join(state, "tags.json"), JSON.stringify({ ...tags(), [normalRef(ref)]: id }));
}

/** `busybox` is `busybox:latest`, as docker reads it. */
function normalRef(ref) {
  const last = ref.slice(ref.lastIndexOf("/") + 1);
  return last.includes(":") || last.includes("@") ? ref : `${ref}:latest`;
}

/** The image id `ref` names (a tag, a full id, or an id's prefix), if any. */
function resolve(ref) {
  const hex = ref.replace(/^sha256:/, "");
  if (/^[0-9a-f]{12,64}$/.test(hex)) {
    const found = readdirSync(join(state, "images")).find((id) => id.startsWith(hex));
    if (found !== undefined) return `sha256:${found}`;
  }
  return tags()[normalRef(ref)];
}

function untar(file, dir) {
  mkdirSync(dir, { recursive: true });
  const done = spawnSync("tar", ["-x", "-f", file, "-C", dir, "--no-same-owner"], { encoding: "utf8" });
  if (done.status !== 0) fail(`Error processing tar file(exit status 1): ${done.stderr.trim()}`);
}

/** Stores an image: its layers (files) extracted in order into its rootfs. */
function store(id, layers, env) {
  const dir = join(state, "images", id);
  rmSync(dir, { recursive: true, force: true });
  for (const layer of layers) untar(layer, join(dir, "rootfs"));
  mkdirSync(join(dir, "rootfs"), { recursive: true });
  writeFileSync(join(dir, "env.json"), JSON.stringify(env));
  return `sha256:${id}`;
}

function load(args) {
  const input = args[0] === "-i" || args[0] === "--input" ? args[1] : undefined;
  if (input === undefined) fail("fake docker: load takes only -i FILE");
  const staging = mkdtempSync(join(tmpdir(), "fake-docker-load-"));
  try {
    untar(input, staging);
    if (existsSync(join(staging, "manifest.json"))) {
      // docker save: manifest.json lists the config and the layer tars; the id is the config's digest.
      const [entry] = JSON.parse(readFileSync(join(staging, "manifest.json"), "utf8"));
      const config = readFileSync(join(staging, entry.Config));
      const id = store(sha256Hex(config), entry.Layers.map((layer) => join(staging, layer)), JSON.parse(config).config?.Env ?? []);
      const repoTags = entry.RepoTags ?? [];
      for (const tag of repoTags) setTag(tag, id);
      process.stdout.write(repoTags.length > 0 ? repoTags.map((tag) => `Loaded image: ${tag}\n`).join("") : `Loaded image ID: ${id}\n`);
    } else if (existsSync(join(staging, "oci-layout"))) {
      // An OCI archive (docker 25+): index.json leads to the manifest (through one nested index at most).
      const blob = (digest) => readFileSync(join(staging, "blobs", "sha256", digest.replace(/^sha256:/, "")));
      const index = JSON.parse(readFileSync(join(staging, "index.json"), "utf8"));
      let descriptor = index.manifests[0];
      let manifest = JSON.parse(blob(descriptor.digest));
      if (Array.isArray(manifest.manifests)) {
        descriptor = manifest.manifests[0];
        manifest = JSON.parse(blob(descriptor.digest));
      }
      const config = blob(manifest.config.digest);
      const layers = manifest.layers.map((layer) => join(staging, "blobs", "sha256", layer.digest.replace(/^sha256:/, "")));
      const id = store(sha256Hex(config), layers, JSON.parse(config).config?.Env ?? []);
      const name = index.manifests[0].annotations?.["io.containerd.image.name"];
      if (name !== undefined) setTag(name, id);
      process.stdout.write(name !== undefined ? `Loaded image: ${name}\n` : `Loaded image ID: ${id}\n`);
    } else fail("open /var/lib/docker/tmp/docker-import/repositories: no such file or directory");
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function importRootfs(args) {
  const [file, ref] = args;
  if (file === undefined || file.startsWith("-")) fail("fake docker: import takes FILE [REF] only");
  const id = store(sha256Hex(readFileSync(file)), [file], []);
  if (ref !== undefined) setTag(ref, id);
  process.stdout.write(`${id}\n`);
}

function inspect(args) {
  if (args[0] !== "--format" || args[1] !== "{{.Id}}" || args.length !== 3) fail("fake docker: image inspect takes only --format {{.Id}} REF");
  const id = resolve(args[2]);
  if (id === undefined) fail(`Error response from daemon: No such image: ${normalRef(args[2])}`);
  process.stdout.write(`${id}\n`);
}

function tag(args) {
  const id = resolve(args[0] ?? "");
  if (id === undefined) fail(`Error response from daemon: No such image: ${args[0]}`);
  setTag(args[1], id);
}

function removeContainers(args) {
  if (args[0] !== "-f" || args.length < 2) fail("fake docker: rm takes only -f NAME...");
  let status = 0;
  for (const name of args.slice(1)) {
    const record = join(state, "containers", `${name}.json`);
    if (!existsSync(record)) {
      process.stderr.write(`Error response from daemon: No such container: ${name}\n`);
      status = 1;
      continue;
    }
    const { pid } = readJson(record, {});
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Gone already.
    }
    rmSync(record, { force: true });
    process.stdout.write(`${name}\n`);
  }
  process.exit(status);
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
  fail(`fake docker: no ${name} on PATH`, 125);
}

function run(args) {
  const options = { rm: false, network: "bridge", user: undefined, volumes: [], tmpfs: [], workdir: "/", env: [], name: undefined };
  let at = 0;
  const value = () => {
    if (at + 1 >= args.length) fail(`flag needs an argument: ${args[at]}`, 125);
    at += 2;
    return args[at - 1];
  };
  while (at < args.length && args[at].startsWith("-")) {
    const flag = args[at];
    if (flag === "--rm") {
      options.rm = true;
      at += 1;
    } else if (flag === "--network") options.network = value();
    else if (flag === "--user" || flag === "-u") options.user = value();
    else if (flag === "-v" || flag === "--volume") options.volumes.push(value());
    else if (flag === "--tmpfs") options.tmpfs.push(value());
    else if (flag === "-w" || flag === "--workdir") options.workdir = value();
    else if (flag === "-e" || flag === "--env") options.env.push(value());
    else if (flag === "--name") options.name = value();
    else fail(`unknown flag: ${flag}\nSee 'docker run --help'.`, 125);
  }
  const [image, ...command] = args.slice(at);
  if (image === undefined) fail('"docker run" requires at least 1 argument.', 125);
  const id = resolve(image);
  if (id === undefined) fail(`Unable to find image '${normalRef(image)}' locally\ndocker: Error response from daemon: pull access denied for ${image}.`, 125);
  if (options.network !== "none" && options.network !== "host") fail(`fake docker: --network ${options.network} is not reproduced (none or host only)`, 125);
  const own = `${process.getuid()}:${process.getgid()}`;
  if (options.user !== undefined && options.user !== own) fail(`fake docker: runs containers as the calling user (${own}) only, not --user ${options.user}`, 125);
  if (command.length === 0) fail("fake docker: give the command (images' Cmd is not reproduced)", 125);
  const name = options.name ?? `fake_${process.pid}`;
  const record = join(state, "containers", `${name}.json`);
  if (existsSync(record)) fail(`docker: Error response from daemon: Conflict. The container name "/${name}" is already in use.`, 125);

  const mounts = options.volumes.map((spec) => {
    const [source, destination, mode, ...rest] = spec.split(":");
    if (destination === undefined || rest.length > 0 || (mode !== undefined && mode !== "ro" && mode !== "rw")) fail(`docker: Error response from daemon: invalid volume specification: '${spec}'.`, 125);
    // A missing source directory is made, as docker does for -v.
    mkdirSync(source, { recursive: true });
    return { source, destination, readOnly: mode === "ro" };
  });
  // Parents before what is inside them, as docker sorts mounts by destination.
  mounts.sort((a, b) => a.destination.split("/").length - b.destination.split("/").length);
  const rootfs = join(state, "images", id.slice("sha256:".length), "rootfs");
  const through = new Set([...mounts.map((m) => m.destination), options.workdir].map((path) => path.split("/")[1]));
  const bwrap = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", ...(options.network === "none" ? ["--unshare-net"] : [])];
  for (const entry of readdirSync(rootfs).sort()) {
    if (entry === "proc" || entry === "dev" || through.has(entry) || options.tmpfs.includes(`/${entry}`)) continue;
    bwrap.push("--ro-bind", join(rootfs, entry), `/${entry}`);
  }
  bwrap.push("--proc", "/proc", "--dev", "/dev");
  for (const path of options.tmpfs) bwrap.push("--tmpfs", path);
  for (const mount of mounts) bwrap.push(mount.readOnly ? "--ro-bind" : "--bind", mount.source, mount.destination);
  bwrap.push("--chdir", options.workdir, "--", ...command);

  const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOSTNAME: name.slice(0, 12), HOME: "/" };
  for (const item of [...JSON.parse(readFileSync(join(state, "images", id.slice(7), "env.json"), "utf8")), ...options.env]) {
    const eq = item.indexOf("=");
    if (eq < 0) {
      if (process.env[item] !== undefined) env[item] = process.env[item];
    } else env[item.slice(0, eq)] = item.slice(eq + 1);
  }
  // Its own process group: the container outlives this client, as in docker.
  const container = spawn(onPath("bwrap"), bwrap, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  writeFileSync(record, JSON.stringify({ pid: container.pid }));
  container.stdout.pipe(process.stdout);
  container.stderr.pipe(process.stderr);
  container.on("close", (code, signal) => {
    if (options.rm) rmSync(record, { force: true });
    process.exitCode = code ?? 128 + (signal === "SIGKILL" ? 9 : 15);
  });
}

const [command, ...rest] = argv;
if (command === "load") load(rest);
else if (command === "import") importRootfs(rest);
else if (command === "image" && rest[0] === "inspect") inspect(rest.slice(1));
else if (command === "tag") tag(rest);
else if (command === "run") run(rest);
else if (command === "rm") removeContainers(rest);
else fail(`fake docker: "${argv.join(" ")}" is not reproduced (see test-support/fake-docker/README.md)`, 125);
