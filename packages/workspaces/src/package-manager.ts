/**
 * Which package manager runs a workspace's scripts: the root package.json's
 * `packageManager` field (what corepack reads, e.g. `pnpm@9.12.0`) when it is
 * set, else the lockfile at the root, else `pnpm` for a pnpm-workspace.yaml and
 * `npm` for anything else. The lockfile found is also an input of every
 * package's script tasks (see scripts.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { WorkspaceError } from "./errors.js";

export type PackageManager = "npm" | "pnpm" | "yarn" | "bun";

/** Each manager's lockfiles, in the order they are looked for. */
const LOCKFILES: readonly (readonly [string, PackageManager])[] = [
  ["pnpm-lock.yaml", "pnpm"],
  ["yarn.lock", "yarn"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
  ["bun.lock", "bun"],
  ["bun.lockb", "bun"],
];

export function detectPackageManager(root: string, manifest: Record<string, unknown>): { packageManager: PackageManager; lockfile: string | undefined } {
  const present = LOCKFILES.filter(([file]) => existsSync(join(root, file)));
  const declared = manifest.packageManager;
  if (declared !== undefined) {
    const name = typeof declared === "string" ? declared.split("@")[0] : undefined;
    if (name !== "npm" && name !== "pnpm" && name !== "yarn" && name !== "bun") {
      throw new WorkspaceError(`package.json \`packageManager\` is ${JSON.stringify(declared)}; rbuild runs scripts with npm, pnpm, yarn or bun (write e.g. "pnpm@9.12.0")`);
    }
    return { packageManager: name, lockfile: present.find(([, manager]) => manager === name)?.[0] };
  }
  const [found] = present;
  if (found !== undefined) return { packageManager: found[1], lockfile: found[0] };
  return { packageManager: existsSync(join(root, "pnpm-workspace.yaml")) ? "pnpm" : "npm", lockfile: undefined };
}
