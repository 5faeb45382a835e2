import { expect, test } from "vitest";
import { ResidentWorker } from "./resident-worker.js";


test("a thread that fails is gone for good; one that was stopped can be started again", async () => {
  const echo = `require("node:worker_threads").parentPort.on("message", (m) => { if (m === "stop") process.exit(0); if (m === "fail") throw new Error("failed"); });`;
  const worker = new ResidentWorker(echo);
  expect([worker.running, worker.post("hello")]).toEqual([false, false]);
  worker.start();
  expect([worker.running, worker.post("hello")]).toEqual([true, true]);

  worker.stop("stop");
  expect(worker.running).toBe(false);
  await new Promise((resolve) => setTimeout(resolve, 200)); // The stopped thread has exited by now.
  worker.start();
  expect(worker.running).toBe(true);

  const failing = new ResidentWorker(`throw new Error("cannot start");`);
  failing.start();
  for (let waited = 0; failing.running && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(failing.running).toBe(false);
  failing.start();
  expect([failing.running, failing.post("x")]).toEqual([false, false]);
  worker.stop("stop");
});
