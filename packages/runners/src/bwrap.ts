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
import { accessSync, constants as fsConstants, lstatSync, readlinkSync } from "node:fs";
import { delimiter, join } from "node:path";

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

/**
 * The arguments for the sandbox's system part. Merged-/usr links (`/bin ->
 * usr/bin`) are made as links, so that they lead where they do on the host.
 * Directories on PATH outside these (a node under /root/.nvm) are bound
 * read-only too, at their paths, unless they are in the workspace (`root`):
 * the tools a task starts are the system's, not its inputs.
 */
export function systemArgs(network: boolean, path: string | undefined, root: string, inSandboxHelper = false): string[] {
  const args = namespaceArgs(network, inSandboxHelper);
  const bound: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    let stats;
    try {
      stats = lstatSync(dir);
    } catch {
      continue;
    }
    if (stats.isSymbolicLink()) {
      args.push("--symlink", readlinkSync(dir), dir);
      bound.push(dir);
    } else if (stats.isDirectory()) {
      args.push("--ro-bind", dir, dir);
      bound.push(dir);
    }
  }
  for (const dir of (path ?? "").split(delimiter)) {
    if (!dir.startsWith("/") || dir === "/" || bound.some((b) => dir === b || dir.startsWith(`${b}/`))) continue;
    if (dir === root || dir.startsWith(`${root}/`)) continue;
    args.push("--ro-bind-try", dir, dir);
    bound.push(dir);
  }
  args.push(...freshArgs(inSandboxHelper));
  return args;
}
