/** End-to-end test rig: a real temp workspace and the built `rbuild` run as a child process. */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { onTestFinished } from "vitest";

/** rbuild in Node, as the command runs it when no daemon answers. */
export const RBUILD = fileURLToPath(new URL("../../bin/rbuild.js", import.meta.url));
/** The installed command, as a user runs it: the client of the daemon, or rbuild in Node. */
export const RBUILD_COMMAND = fileURLToPath(new URL("../../bin/rbuild", import.meta.url));

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Run the installed command (bin/rbuild) rather than rbuild in Node. */
  readonly command?: boolean;
}

export interface RunResult {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Strips colour, replaces the workspace root with <root> and timings with <t>, so output can be asserted whole. */
export function normalize(text: string, root: string): string {
  return text
    .replace(/\x1b\[[0-9;]*m/g, "")
    .replaceAll(root, "<root>")
    .replace(/\((\d+ms|\d+\.\ds)\)/g, "(<t>)")
    .replace(/ in (\d+ms|\d+\.\ds)$/gm, " in <t>");
}

export class Workspace {
  readonly root: string;

  constructor(name = "rbuild-e2e-") {
    this.root = realpathSync(mkdtempSync(join(tmpdir(), name)));
  }

  write(files: Record<string, string>): this {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(this.root, name)), { recursive: true });
      writeFileSync(join(this.root, name), text);
    }
    return this;
  }

  read(name: string): string {
    return readFileSync(join(this.root, name), "utf8");
  }

  /** Starts rbuild; the caller may signal the process before awaiting it. */
  start(args: readonly string[], options: StartOptions = {}): ResultPromise<{ reject: false }> {
    const [file, argv] = options.command === true ? [RBUILD_COMMAND, args] : [process.execPath, [RBUILD, ...args]];
    return execa(file, argv, {
      cwd: options.cwd ?? this.root,
      reject: false,
      stdin: "ignore",
      stripFinalNewline: false,
      // A clean, known environment: what a task may see is part of what is tested.
      // No daemon unless a test asks for one (daemon.e2e.test.ts).
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: this.root, RBUILD_DAEMON: "0", ...options.env },
      extendEnv: false,
    }) as ResultPromise<{ reject: false }>;
  }

  async run(args: readonly string[], options: StartOptions = {}): Promise<RunResult> {
    const result = await this.start(args, options);
    return { exitCode: result.exitCode, stdout: normalize(String(result.stdout), this.root), stderr: normalize(String(result.stderr), this.root) };
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * A workspace holding `files` for the running test, removed when it finishes
 * (made writable first: a test may leave a directory of mode 000 in it).
 */
export function testWorkspace(files: Record<string, string>): Workspace {
  const ws = new Workspace().write(files);
  onTestFinished(() => {
    spawnSync("chmod", ["-R", "u+rwx", ws.root]);
    ws.remove();
  });
  return ws;
}
