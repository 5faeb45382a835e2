/**
 * Finding bubblewrap (`bwrap`) and the arguments that make the sandbox's
 * system part: the host's system directories read-only, a fresh /proc,
 * /dev and /tmp, every namespace unshared (the network too, unless the task
 * says `network: true`; or shared with the sandbox helper that starts it).
 *
 * There is no fallback: a task that asks for a sandbox and cannot have one
 * fails to start, saying how to install bubblewrap (or why it cannot run
 * here), since running it unconfined would hide exactly the undeclared
 * inputs the sandbox is there to find.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants as fsConstants, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, join, posix } from "node:path";

/** How bubblewrap is here: found and working (its path), or why not, as a message to show. */
export type BwrapState = { readonly kind: "found"; readonly path: string } | { readonly kind: "missing"; readonly message: string };

const INSTALL = "Install bubblewrap (Debian, Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`; Arch: `pacman -S bubblewrap`), or run the task with `runner: \"local\"` (and without --sandbox)";

/** The first executable `name` (`bwrap` unless told) on `searchPath`. */
export function findOnPath(searchPath: string, name = "bwrap"): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * Finds bwrap on `searchPath` and checks once that it can make a sandbox
 * here (a container without user namespaces cannot, unless rbuild runs as
 * root): a few milliseconds, once per runner.
 */
export function locateBwrap(searchPath: string): BwrapState {
  const path = findOnPath(searchPath);
  if (path === undefined) return { kind: "missing", message: `it runs in a sandbox (\`runner: "sandbox"\` or --sandbox), which needs bubblewrap, and \`bwrap\` is not on PATH. ${INSTALL}.` };
  const probe = spawnSync(path, ["--unshare-all", "--ro-bind", "/", "/", "--", "/bin/true"], { encoding: "utf8", timeout: 60_000 });
  if (probe.status === 0) return { kind: "found", path };
  const said = (probe.stderr || probe.error?.message || `exit status ${probe.status}`).trim();
  return {
    kind: "missing",
    message:
      `it runs in a sandbox, and ${path} cannot make one here (${said}). bubblewrap needs user namespaces: ` +
      "enable them (`sysctl kernel.unprivileged_userns_clone=1`, or `user.max_user_namespaces` above 0; in a container, allow them), or run rbuild as root",
  };
}

/** The system directories a task sees read-only, when the host has them. */
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"];

/** Where the task's HOME is in the sandbox: an empty directory on its /tmp. */
export const SANDBOX_HOME = "/tmp/home";

/**
 * The namespaces: all of them, but the network's when the task has one
 * (`network`) or when it starts through a sandbox helper, whose network
 * namespace, with only loopback, it then shares (sandbox-helpers.ts).
 */
export function namespaceArgs(network: boolean, inSandboxHelper: boolean): string[] {
  return ["--unshare-all", ...(network || inSandboxHelper ? ["--share-net"] : []), "--die-with-parent"];
}

/**
 * A fresh /proc, /dev and /tmp, and HOME. Through a sandbox helper, /dev is
 * the helper's, made as bwrap's --dev makes it, bound with a /dev/shm of the
 * task's own.
 */
export function freshArgs(inSandboxHelper: boolean): string[] {
  const dev = inSandboxHelper ? ["--dev-bind", "/dev", "/dev", "--tmpfs", "/dev/shm"] : ["--dev", "/dev"];
  return ["--proc", "/proc", ...dev, "--tmpfs", "/tmp", "--dir", SANDBOX_HOME];
}

/** The last names of a PATH directory that is a tool installation's own: `<prefix>/bin`, a version manager's `<root>/shims`. */
const TOOL_DIRS = new Set(["bin", "sbin", "shims"]);

/** Whether `path` is `dir` or below it. */
function under(dir: string, path: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/**
 * The home directories on this host: rbuild's own (`homedir()`, a daemon's
 * is the HOME it started with), `also` (a task's HOME), and every user's in
 * /etc/passwd. No tool's prefix is one of them (toolRoot).
 */
export function hostHomes(also: readonly (string | undefined)[] = []): string[] {
  let passwd = "";
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    // None to add.
  }
  const listed = passwd.split("\n").map((line) => line.split(":")[5]);
  return [...new Set([homedir(), ...also, ...listed].filter((home): home is string => home !== undefined && home.startsWith("/") && home !== "/"))];
}

/** What a sandbox has of its own, fresh: the host's is never bound over it, nor a directory above it. */
const FRESH = ["/tmp", "/proc", "/dev", "/sys"];

/**
 * Whether PATH directory `dir` may be bound: not one that is, or holds, or
 * is under a directory the sandbox has fresh (/tmp itself: the host's would
 * cover the sandbox's, read-only, showing every other task's scratch files;
 * `/tmp/x/bin` is fine), nor the temp directory (`temp`) or one above it.
 */
function bindable(dir: string, temp: string): boolean {
  return !FRESH.some((fresh) => under(dir, fresh) || (fresh !== "/tmp" && under(fresh, dir))) && !under(dir, temp);
}

/**
 * The host directory that PATH directory `dir` brings into the sandbox: the
 * tool's prefix for a `…/bin` or `…/shims` (`/root/.nvm/versions/node/v20/bin`
 * → `…/v20`, whose lib/ npm runs from; `/root/.pyenv/shims` → `/root/.pyenv`,
 * whose libexec/ and versions/ a shim runs), else `dir` itself. The prefix
 * is never `/` or a top-level directory (`/home`, `/var`, `/tmp`), a home
 * directory (`homes`, anyone's) or one above it, a directory that holds the
 * workspace (`root`), or the temp directory (`temp`) or one above it: those
 * hold far more than a tool (keys, other tasks' files).
 */
export function toolRoot(dir: string, root: string, homes: readonly string[], temp = tmpdir()): string {
  const slash = dir.lastIndexOf("/");
  const prefix = dir.slice(0, slash);
  if (!TOOL_DIRS.has(dir.slice(slash + 1)) || prefix.lastIndexOf("/") <= 0 || under(prefix, root) || under(prefix, temp)) return dir;
  if (homes.some((home) => under(prefix, home))) return dir;
  return prefix;
}

/** What of the host a sandbox holds (see hostPart). */
export interface HostPart {
  readonly links: readonly (readonly [string, string])[];
  readonly dirs: readonly string[];
}

/**
 * What of the host a sandbox holds, read-only: the system directories there
 * are (`links`, merged-/usr links as `/bin -> usr/bin`, made as links so
 * that they lead where they do on the host; `dirs`, bound), and for each
 * directory on PATH outside them and outside the workspace (`root`), its
 * tool's root (toolRoot): the tools a task starts are the system's, not its
 * inputs. None inside another; none that is, holds or is in what the sandbox
 * has fresh (bindable).
 */
export function hostPart(path: string | undefined, root: string, homes: readonly string[] = hostHomes(), temp = tmpdir()): HostPart {
  const links: [string, string][] = [];
  const system: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    let stats;
    try {
      stats = lstatSync(dir);
    } catch {
      continue;
    }
    if (stats.isSymbolicLink()) links.push([dir, readlinkSync(dir)]);
    else if (stats.isDirectory()) system.push(dir);
  }
  const held = (dir: string): boolean => [...system, ...links.map(([link]) => link)].some((b) => under(b, dir));
  const tools: string[] = [];
  for (const dir of (path ?? "").split(delimiter)) {
    // Normal: `/opt/x/../../root/bin` is /root/bin to bwrap, and to every check here.
    const trimmed = posix.normalize(dir).replace(/\/+$/, "");
    if (!trimmed.startsWith("/") || held(trimmed) || under(root, trimmed) || !bindable(trimmed, temp)) continue;
    tools.push(toolRoot(trimmed, root, homes, temp));
  }
  // Shortest first: one inside another (pyenv's plugin shims inside its root) is in the sandbox with it.
  const kept: string[] = [];
  for (const dir of [...new Set(tools)].sort((a, b) => a.length - b.length)) if (!held(dir) && !kept.some((outer) => under(outer, dir))) kept.push(dir);
  // In PATH's order: a missing one is skipped (--ro-bind-try).
  return { links, dirs: [...system, ...tools.filter((dir, i) => kept.includes(dir) && tools.indexOf(dir) === i)] };
}

/**
 * The arguments for the sandbox's system part: the namespaces, the host's
 * part (hostPart), a fresh /proc, /dev, /tmp and HOME. The tools' roots come
 * after the fresh /tmp: one in a temp directory is bound inside it, not
 * hidden by it.
 */
export function systemArgs(network: boolean, path: string | undefined, root: string, inSandboxHelper = false, homes: readonly string[] = hostHomes()): string[] {
  return hostArgs(network, hostPart(path, root, homes), inSandboxHelper);
}

/** systemArgs with the host's part made already (a run makes it once, for all its commands). */
export function hostArgs(network: boolean, host: HostPart, inSandboxHelper: boolean): string[] {
  const args = namespaceArgs(network, inSandboxHelper);
  for (const [link, target] of host.links) args.push("--symlink", target, link);
  const tools = host.dirs.filter((dir) => !SYSTEM_DIRS.includes(dir));
  for (const dir of host.dirs) if (SYSTEM_DIRS.includes(dir)) args.push("--ro-bind", dir, dir);
  args.push(...freshArgs(inSandboxHelper));
  for (const dir of tools) args.push("--ro-bind-try", dir, dir);
  return args;
}
