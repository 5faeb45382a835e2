/** A container task running longer than gc's grace keeps its unpacked image from a gc in another terminal (item 2 of lastfix). */
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerRunner, identifyImage, imageDirectory, SandboxRunner, type RunOutcome } from "@rbuild/runners";
import { collectGarbage, Store } from "@rbuild/store";
import { afterEach, beforeEach, expect, test } from "vitest";
import { busyboxRootfs, tarOf, writeOciLayout } from "../../test-support/oci-image.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-image-keepalive-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test("lastfix 2: a container task running longer than gc's grace keeps its image, not yet in run_images; once it ends, gc may take it", { timeout: 120_000 }, async () => {
  const rootfs = busyboxRootfs(join(root, "rootfs"));
  writeOciLayout(join(root, "image"), [tarOf(rootfs)], ["PATH=/bin"]);
  const found = identifyImage(join(root, "image"));
  if (!found.ok) throw new Error(found.message);
  const storeDir = join(root, ".rbuild");
  const store = Store.open({ dir: storeDir });
  const image = imageDirectory(storeDir, found.image.digest);
  // gc's grace is an hour; here four seconds (a stall of the test that long would be needed to remove it), and the runner marks its image every 100ms (every five minutes for real).
  const graceMs = 4000;
  const sandbox = new SandboxRunner();
  const runner = new ContainerRunner(sandbox, process.env.PATH ?? "", 100);
  let stdout = "";
  let settled: RunOutcome | undefined;
  const running = Promise.resolve(
    runner.run({
      task: "long",
      // Longer than the grace.
      run: "echo started; sleep 6; echo done",
      root,
      cwd: root,
      env: { PATH: "/bin" },
      inputs: [],
      depOutputs: [],
      outputs: [],
      image: { source: found.image, storeDir },
      signal: new AbortController().signal,
      stdout: (chunk) => (stdout += String(chunk)),
      stderr: () => {},
    }),
  ).then((outcome) => (settled = outcome));
  try {
    // gc in "another terminal", again and again while the task runs: it never takes the image.
    const removed: number[] = [];
    while (settled === undefined) {
      if (stdout.includes("started")) removed.push(collectGarbage(store, { graceMs }).imagesRemoved);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(removed.length).toBeGreaterThan(0);
    expect(removed.filter((n) => n !== 0)).toEqual([]);
    expect(await running).toEqual({ ok: true, exitCode: 0, produced: { kind: "in-place" } });
    expect(stdout).toBe("started\ndone\n");
    // Marked at its end too; nothing keeps it once the grace has passed since (no result names it).
    expect(collectGarbage(store, { graceMs }).imagesRemoved).toBe(0);
    expect(collectGarbage(store, { graceMs, now: Date.now() + 2 * graceMs }).imagesRemoved).toBe(1);
    expect(existsSync(image)).toBe(false);
  } finally {
    await running;
    sandbox.close();
    store.close();
  }
});
