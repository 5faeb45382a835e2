/**
 * Running the real turbo and nx (pinned devDependencies at the repo root, so
 * `npm ci` provides them) against the cache server: where they are, a run with
 * its whole output, and the bytes of the outputs a task left.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repo root's node_modules, where npm ci put the clients. */
export const NODE_MODULES = fileURLToPath(new URL("../../../node_modules/", import.meta.url));

/** The path of a client's bin; throws with what to do when it is not installed. */
export function clientBin(name: "turbo" | "nx"): string {
  const bin = join(NODE_MODULES, ".bin", name);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm ci\` at the repo root (${name} is a pinned devDependency)`);
  return bin;
}

export interface ClientRun {
  readonly code: number | null;
  /** stdout and stderr as they came, ANSI colours stripped. */
  readonly output: string;
}

/**
 * Runs a client to its end with exactly `env` (plus PATH), so nothing of the
 * caller's environment (CI, a logged-in token, a proxy) changes what it does.
 * Killed after `timeoutMs`, which only a hung client reaches.
 */
export function runClient(bin: string, args: readonly string[], cwd: string, env: Record<string, string>, timeoutMs = 120_000): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "") });
    });
  });
}

/** Every file under `root`'s `dirs` (relative path -> bytes), to compare outputs before and after a restore. */
export function filesUnder(root: string, dirs: readonly string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(root, path), readFileSync(path));
    }
  };
  for (const dir of dirs) if (existsSync(join(root, dir))) walk(join(root, dir));
  return files;
}

/**
 * A small build script for a package: writes dist/out.txt (naming the
 * package and what it read from its src) and dist/data.bin (every byte value,
 * so a restore that is not byte-exact shows).
 */
export const BUILD_SCRIPT = `import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
mkdirSync("dist", { recursive: true });
const name = JSON.parse(readFileSync("package.json", "utf8")).name;
writeFileSync("dist/out.txt", \`built \${name} from \${readFileSync("src/index.txt", "utf8").trim()}\\n\`);
writeFileSync("dist/data.bin", Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 7 + name.length) % 256)));
`;
