/**
 * The runner conformance suite: what every Runner (packages/runners) does,
 * wherever it runs the task. The local runner passes it through its process
 * helper and forked from Node (packages/runners/src/local-runner.test.ts);
 * a sandbox, container or CI runner adds one line calling
 * `runnerConformance` with its own factory.
 *
 * Each case builds a small workspace in a temp directory, asks the runner to
 * run one task there, and checks only what a request promises: the exit
 * status and failure, the output streamed, the files produced (read through
 * `produced`, wherever the runner left them), the environment and directory
 * the task saw, and that an abort stops everything the task started.
 * Everything a case reads or writes is declared (inputs, outputs), so that
 * a runner that holds only what is declared (the sandbox) passes it too.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { Runner } from "@rbuild/runners";
import { eventually, livePidsWith } from "./processes.js";
import { runnerBed, type Ran } from "./runner-bed.js";

/** The content of `path` (relative to the workspace root) among the files a run produced. */
function produced(ran: Ran, root: string, path: string): string {
  if (!ran.outcome.ok) throw new Error(`the run failed: ${JSON.stringify(ran.outcome.failure)}`);
  switch (ran.outcome.produced.kind) {
    case "in-place":
      return readFileSync(join(root, path), "utf8");
    case "remote-cache":
      throw new Error("the runner left the run's files in the remote cache: the conformance suite reads them in place");
  }
}

/** Runs the suite against runners `make` gives (a new one per test; `close` is called after it, if it has one). */
export function runnerConformance(name: string, make: () => Runner & { close?(): void }): void {
  describe(`runner conformance: ${name}`, () => {
    const bed = runnerBed("rbuild-runner-", make);
    const { write, run } = bed;

    test("a command that succeeds: exit code 0, its output streamed, its outputs produced from its inputs and its deps' outputs", async () => {
      write({ "src/in.txt": "input\n", "dep/out.txt": "from a dep\n" });
      const ran = await run("mkdir -p out && cat src/in.txt dep/out.txt > out/result.txt && echo done && echo note >&2", {
        inputs: ["src/**"],
        depOutputs: ["dep/**"],
        outputs: ["out/**"],
      });
      expect(ran.outcome).toEqual({ ok: true, exitCode: 0, produced: expect.objectContaining({ kind: expect.any(String) }) });
      expect([ran.stdout, ran.stderr]).toEqual(["done\n", "note\n"]);
      expect(produced(ran, bed.root, "out/result.txt")).toBe("input\nfrom a dep\n");
    });

    test("a command that exits non-zero fails with its exit code", async () => {
      const ran = await run("echo partial; exit 7");
      expect(ran.outcome).toEqual({ ok: false, exitCode: 7, failure: { reason: "exit-nonzero", task: "t", exitCode: 7 } });
      expect(ran.stdout).toBe("partial\n");
    });

    test("a command killed by a signal fails, naming the signal", async () => {
      const ran = await run("kill -KILL $$");
      expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "killed", task: "t", signal: "SIGKILL" } });
    });

    test("a command sees exactly its environment, its working directory, and stdin at end of file", async () => {
      write({ "pkg/a/.keep": "" });
      process.env.RBUILD_CONFORMANCE_LEAK = "leaked";
      try {
        const ran = await run('printf "%s|%s|%s|" "$GIVEN" "${RBUILD_CONFORMANCE_LEAK-unset}" "$(pwd)"; cat; echo end', {
          cwd: join(bed.root, "pkg/a"),
          env: { PATH: "/usr/bin:/bin", GIVEN: "yes" },
        });
        expect(ran.stdout).toBe(`yes|unset|${join(bed.root, "pkg/a")}|end\n`);
      } finally {
        delete process.env.RBUILD_CONFORMANCE_LEAK;
      }
    });

    test("a program that is not found fails as sh says: status 127 and sh's message", async () => {
      const ran = await run("rbuild-conformance-no-such-tool");
      expect(ran.outcome).toEqual({ ok: false, exitCode: 127, failure: { reason: "exit-nonzero", task: "t", exitCode: 127 } });
      expect(ran.stderr).toMatch(/rbuild-conformance-no-such-tool: (command )?not found/);
    });

    test("a working directory that does not exist fails to start, naming it", async () => {
      const ran = await run("true", { cwd: join(bed.root, "missing") });
      expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "spawn-failed", task: "t", message: expect.stringContaining(join(bed.root, "missing")) } });
    });

    test("an abort stops the task and everything it started, and the run ends as interrupted", async () => {
      // Found by its command line (not a pid the task reports: a sandbox has its own pids and its own files).
      const marker = `60.${process.pid}${String(Date.now() % 100_000).padStart(5, "0")}`;
      const abort = new AbortController();
      const running = run(`sleep ${marker} & wait`, { signal: abort.signal });
      expect(await eventually(() => livePidsWith(`sleep ${marker}`).length > 0)).toBe(true);
      abort.abort();
      const ran = await running;
      expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "interrupted", task: "t" } });
      expect(livePidsWith(marker)).toEqual([]);
    });

    test("a function task gets its name, directory and environment, logs as output, and its commands run as commands do", async () => {
      const ran = await run(
        async (context) => {
          context.log("in", context.name, context.cwd === bed.root, context.env.GIVEN);
          const { stdout } = await context.exec("echo from exec; echo $GIVEN > made.txt");
          context.log("captured", stdout.trim());
        },
        { env: { PATH: "/usr/bin:/bin", GIVEN: "yes" }, outputs: ["made.txt"] },
      );
      expect(ran.outcome.ok).toBe(true);
      expect(ran.stdout).toBe("in t true yes\nfrom exec\ncaptured from exec\n");
      expect(produced(ran, bed.root, "made.txt")).toBe("yes\n");
    });

    test("a function task that throws fails with its message", async () => {
      const ran = await run(async () => {
        throw new Error("broken on purpose");
      });
      expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: expect.objectContaining({ reason: "run-threw", task: "t", message: "broken on purpose" }) });
    });

    test("a function task whose command fails fails with that command's exit code", async () => {
      const ran = await run(async (context) => {
        await context.exec("exit 3");
      });
      expect(ran.outcome).toEqual({ ok: false, exitCode: 3, failure: { reason: "exit-nonzero", task: "t", exitCode: 3 } });
    });

    test("20.hardening: an environment variable whose name is empty or holds \"=\" fails the task, naming it", async () => {
      for (const name of ["", "=A"]) {
        const ran = await run("true", { env: { PATH: "/usr/bin:/bin", [name]: "v" } });
        const message = `its environment has a variable named ${JSON.stringify(name)}: a name cannot be empty or hold "=". Rename it or remove it from the task's env.`;
        expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: { reason: "spawn-failed", task: "t", message } });
      }
    });

    test("20.hardening: a function's exec with an empty command fails its task saying so", async () => {
      for (const command of [[], [""]]) {
        const ran = await run(async (context) => {
          await context.exec(command);
        });
        const message = 'exec() was given no program to run: pass the program and its arguments, as ["tsc", "-p", "."], or a command line';
        expect(ran.outcome).toEqual({ ok: false, exitCode: null, failure: expect.objectContaining({ reason: "run-threw", task: "t", message }) });
      }
    });

    test("many tasks at once each get their own output, whole", async () => {
      const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => run(`echo task ${i}; echo err ${i} >&2; exit ${i % 3}`)));
      runs.forEach((ran, i) => {
        expect([ran.stdout, ran.stderr, ran.outcome.exitCode]).toEqual([`task ${i}\n`, `err ${i}\n`, i % 3]);
      });
    });
  });
}
