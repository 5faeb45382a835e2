import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished, test } from "vitest";
import { ConcourseClient } from "../client/client.js";
import { FakeConcourse, type FakeConcourseOptions } from "./fake-concourse.js";

// The double's job steps that 28.2's pipeline test relies on: `attempts`, and a `get` of a directory the test gives.
const TIMEOUT = 60_000;

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "fake-job-steps-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function runJob(options: FakeConcourseOptions, plan: unknown[]): Promise<{ status: string | undefined; log: string }> {
  const fake = await FakeConcourse.start(options);
  onTestFinished(() => fake.close());
  const concourse = new ConcourseClient({ url: fake.url, team: "main", username: "main", password: "main" });
  onTestFinished(() => concourse.close());
  const config = { resources: [{ name: "source", type: "git", source: {} }], jobs: [{ name: "build", plan: [{ get: "source" }, ...plan] }] };
  expect((await concourse.setPipeline("app", JSON.stringify(config))).ok).toBe(true);
  expect((await concourse.unpause("app")).ok).toBe(true);
  const build = await concourse.triggerJob("app", "build");
  if (!build.ok) throw new Error(build.error.message);
  let log = "";
  const followed = await concourse.followBuild(build.value.id, { onEvent: (event) => void (event.event === "log" && (log += event.data.payload)) });
  return { status: followed.ok ? followed.value.status : undefined, log };
}

const task = (script: string, fields: Record<string, unknown> = {}) => ({
  task: "run",
  ...fields,
  config: { platform: "linux", inputs: [{ name: "source" }], run: { path: "sh", args: ["-c", script], dir: "source" } },
});

test("28.2: the double runs a step with attempts: 3 up to three times while it fails, and stops at the first success", { timeout: TIMEOUT }, async () => {
  const runs = join(scratch(), "runs");
  expect(await runJob({}, [task(`echo ran >> ${runs}; exit 1`, { attempts: 3 })])).toEqual({ status: "failed", log: "" });
  expect(readFileSync(runs, "utf8")).toBe("ran\nran\nran\n");
  const again = join(scratch(), "runs");
  expect(await runJob({}, [task(`echo ran >> ${again}; [ $(wc -l < ${again}) -ge 2 ]`, { attempts: 3 })])).toEqual({ status: "succeeded", log: "" });
  expect(readFileSync(again, "utf8")).toBe("ran\nran\n");
});

test("28.2: a get of a resource the double was given a directory for is a copy of it; of another, an empty directory", { timeout: TIMEOUT }, async () => {
  const given = scratch();
  writeFileSync(join(given, "hello.txt"), "hi from the resource\n");
  expect(await runJob({ resources: { source: given } }, [task("cat hello.txt; echo changed > hello.txt")])).toEqual({ status: "succeeded", log: "hi from the resource\n" });
  expect(readFileSync(join(given, "hello.txt"), "utf8")).toBe("hi from the resource\n");
  expect(await runJob({}, [task("ls -A | wc -l")])).toEqual({ status: "succeeded", log: "0\n" });
});
