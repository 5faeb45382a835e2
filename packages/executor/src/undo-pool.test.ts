import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { describeFailure, pool, task, type BuildEvent } from "@rbuild/core";
import { defineTasks, plan } from "@rbuild/planner";
import { HttpLeases } from "@rbuild/remote";
import { LocalRunner } from "@rbuild/runners";
import { startCacheServer, type RunningServer } from "rbuild-cache-server";
import { execute } from "./executor.js";

let root: string;
let server: RunningServer;
beforeEach(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-undo-pool-")));
  server = await startCacheServer({ dir: join(root, "server"), port: 0, maxSize: 1e9 });
});
afterEach(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

test("26.2/26.4: an undo takes its task's shared lease: it waits while another build holds the pool", async () => {
  const staging = pool("staging", { size: 1, shared: true });
  const deploy = task({ name: "deploy", pure: false, pool: staging, run: "echo deployed >> log", undo: "echo undone >> log" });
  const smoke = task({ name: "smoke", pure: false, deps: [deploy], run: "touch smoke.started; while [ ! -e fail ]; do sleep 0.02; done; exit 1" });
  const defs = defineTasks([deploy, smoke], root);
  if (!defs.ok) throw new Error(defs.error.map((f) => describeFailure(f, { cwd: root })).join("\n"));
  const graph = plan(defs.value, ["smoke"]);
  if (!graph.ok) throw new Error("plan failed");
  const leases = new HttpLeases({ url: server.url });
  const other = new HttpLeases({ url: server.url });
  const events: BuildEvent[] = [];
  try {
    const building = execute({
      graph: graph.value,
      jobs: 2,
      runner: new LocalRunner(),
      reporter: { report: (e) => events.push(e) },
      env: { PATH: process.env.PATH },
      pools: { leases, ttlMs: 30_000 },
    });
    for (let i = 0; i < 4500 && !existsSync(join(root, "smoke.started")); i++) await sleep(10);
    // deploy has released its lease; another build takes the pool before smoke fails.
    const holder = { id: "elsewhere/1/deploy", host: "elsewhere", build: "1", task: "deploy" };
    expect(await other.acquire("staging", 1, holder, 30_000)).toEqual({ granted: true });
    writeFileSync(join(root, "fail"), "");
    const waiting = () => events.some((e) => e.type === "info" && e.code === "pool-wait");
    for (let i = 0; i < 4500 && !waiting(); i++) await sleep(10);
    expect(waiting()).toBe(true);
    expect(readFileSync(join(root, "log"), "utf8")).toBe("deployed\n");
    await other.release("staging", holder.id);
    const outcome = await building;
    expect(outcome.undos.map((u) => [u.task, u.ok])).toEqual([["deploy", true]]);
    expect(readFileSync(join(root, "log"), "utf8")).toBe("deployed\nundone\n");
    expect(await other.list()).toEqual([]);
  } finally {
    await leases.close();
    await other.close();
  }
}, 60_000);
