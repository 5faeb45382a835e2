import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure } from "@rbuild/core";
import { runnerBed } from "../../../test-support/runner-bed.js";
import { hostPart, toolRoot } from "./bwrap.js";
import { SandboxRunner } from "./sandbox-runner.js";

const bed = runnerBed("rbuild-sandbox-host-test-", () => new SandboxRunner());

test("27.1: a PATH directory named bin, sbin or shims brings its prefix, never the home directory, / or one holding the workspace", () => {
  const [root, home] = ["/work/app", ["/home/me"]];
  expect(toolRoot("/home/me/.nvm/versions/node/v20/bin", root, home)).toBe("/home/me/.nvm/versions/node/v20");
  expect(toolRoot("/home/me/.pyenv/shims", root, home)).toBe("/home/me/.pyenv");
  expect(toolRoot("/home/me/bin", root, home)).toBe("/home/me/bin");
  expect(toolRoot("/bin", root, home)).toBe("/bin");
  expect(toolRoot("/work/bin", root, home)).toBe("/work/bin");
  expect(toolRoot("/home/me/tools/node", root, home)).toBe("/home/me/tools/node");
});

test("27.1: the host's part: system directories, then each tool's root in PATH's order, none inside another or in the workspace", () => {
  const path = ["/home/me/.pyenv/plugins/pyenv-virtualenv/shims", "/home/me/.pyenv/shims", "/home/me/.pyenv/bin", "/work/app/node_modules/.bin", "/usr/local/bin", "/home/me/.cargo/bin", "relative/bin"].join(":");
  const dirs = hostPart(path, "/work/app", ["/home/me"]).dirs;
  expect(dirs.filter((dir) => dir.startsWith("/home/"))).toEqual(["/home/me/.pyenv", "/home/me/.cargo"]);
  expect(dirs).toContain("/usr");
  expect(dirs.some((dir) => dir.startsWith("/work/"))).toBe(false);
});

let host = "";
beforeEach(() => {
  // Not under /tmp: the sandbox has a /tmp of its own, so only a tool's root is there from the host.
  host = realpathSync(mkdtempSync("/var/tmp/rbuild-sandbox-host-"));
});
afterEach(() => rmSync(host, { recursive: true, force: true }));

function tool(path: string, script: string): void {
  mkdirSync(join(host, path, ".."), { recursive: true });
  writeFileSync(join(host, path), script);
  chmodSync(join(host, path), 0o755);
}

test("27.1: a tool on PATH runs files under its prefix (its lib/), in the sandbox as on the host", async () => {
  tool("tool/bin/greet", `#!/bin/sh\nexec cat ${host}/tool/lib/greeting.txt\n`);
  mkdirSync(join(host, "tool/lib"));
  writeFileSync(join(host, "tool/lib/greeting.txt"), "hello from lib\n");
  const ran = await bed.run("greet", { env: { PATH: `${host}/tool/bin:/usr/bin:/bin` } });
  expect([ran.outcome, ran.stdout, ran.stderr]).toEqual([{ ok: true, exitCode: 0, produced: { kind: "in-place" } }, "hello from lib\n", ""]);
});

test("27.1: a tool that runs a host file outside the sandbox fails naming that file and what to do", async () => {
  tool("tool/bin/proxy", `#!/bin/sh\nexec ${host}/elsewhere/real "$@"\n`);
  tool("elsewhere/real", "#!/bin/sh\necho real\n");
  const ran = await bed.run("proxy", { env: { PATH: `${host}/tool/bin:/usr/bin:/bin` } });
  expect(ran.stderr).toBe(`${host}/tool/bin/proxy: 2: exec: ${host}/elsewhere/real: not found\n`);
  const failure = { reason: "outside-sandbox", task: "t", paths: [`${host}/elsewhere/real`], exitCode: 127 } as const;
  expect(ran.outcome).toEqual({ ok: false, exitCode: 127, failure });
  expect(describeFailure(failure, { cwd: bed.root })).toBe(
    `Task "t" looked for ${host}/elsewhere/real, outside the workspace, and it exited with code 127: it is not in its sandbox, which holds the system directories (/usr, /etc, /opt) and the tools on its PATH ` +
      "(each directory on PATH, or the prefix above one named bin or shims), not the rest of the host. A tool that runs files from elsewhere (a rustup proxy, a version manager's shim) needs them: " +
      'put the directory of the program itself on the task\'s PATH, or run the task outside the sandbox (`runner: "local"`).',
  );
});

test("27.1: a tool whose PATH directory is in a temp directory is in the sandbox too (bound inside its fresh /tmp)", async () => {
  const temp = realpathSync(mkdtempSync("/tmp/rbuild-sandbox-host-tool-"));
  try {
    mkdirSync(join(temp, "bin"));
    writeFileSync(join(temp, "bin/hi"), "#!/bin/sh\necho hi\n");
    chmodSync(join(temp, "bin/hi"), 0o755);
    const ran = await bed.run("hi && ls /tmp/home", { env: { PATH: `${temp}/bin:/usr/bin:/bin` } });
    expect([ran.outcome.ok, ran.stdout, ran.stderr]).toEqual([true, "hi\n", ""]);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});
