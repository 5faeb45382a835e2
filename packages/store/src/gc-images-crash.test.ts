/** gc killed while it removes an unpacked image: no directory under the image's name is left half removed (review4). */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect, test } from "vitest";
import { Store } from "./store.js";

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-gc-images-crash-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The built package (the child runs what `npm run build` made). */
const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));

test("R4.2: a gc killed while it removes an image leaves no half of it under the image's name (a build would run in what is left)", async () => {
  Store.open({ dir }).close();
  const hex = "d".repeat(64);
  const image = join(dir, "images", hex);
  const subdirs = 300;
  for (let d = 0; d < subdirs; d++) {
    mkdirSync(join(image, "rootfs", `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(image, "rootfs", `d${d}`, `f${f}`), "x");
  }
  writeFileSync(join(image, "env.json"), "{}");
  const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  utimesSync(image, hourAgo, hourAgo);
  const script = `import { Store, collectGarbage } from ${JSON.stringify(built)};\nconst store = Store.open({ dir: ${JSON.stringify(dir)} });\ncollectGarbage(store, {});\nstore.close();\n`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  // Killed once the removal has begun (part of the tree is gone), or let be if it ended first.
  const partly = (): boolean => {
    try {
      return readdirSync(join(image, "rootfs")).length < subdirs;
    } catch {
      return true;
    }
  };
  while (running && !partly()) await new Promise((resolve) => setImmediate(resolve));
  child.kill("SIGKILL");
  await exited;
  expect(readdirSync(join(dir, "images")).filter((name) => /^[0-9a-f]{64}$/.test(name))).toEqual([]);
}, 60_000);
