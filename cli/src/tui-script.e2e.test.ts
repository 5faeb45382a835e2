/**
 * The TUI's thread loads ink from the bundled CLI's one script with V8's code
 * cache beside it (issue 24.6, packages/ui/src/tui-script.ts): V8 takes the
 * cache the build made, and the script draws what the ink modules draw. A
 * script without its cache, or with one V8 refuses, compiles as usual and
 * draws the same. Each load is in a thread of its own (a fresh isolate, as
 * the TUI's thread is), run from the build's output: run `npm run build` first.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { expect, onTestFinished, test } from "vitest";

const SCRIPT = fileURLToPath(new URL("../dist/tui-painter.cjs", import.meta.url));
const LOADER = fileURLToPath(new URL("../../packages/ui/dist/tui-script.js", import.meta.url));
const MODULE = fileURLToPath(new URL("../../packages/ui/dist/tui-painter.js", import.meta.url));

const LINES = ["\x1b[1m▸\x1b[0m app:build  3s", "\x1b[2m  │ compiling\x1b[0m", `\x1b[32m${"█".repeat(12)}\x1b[0m${"░".repeat(18)} 2/5 · 2 ran · 0 cached`];

/** In a thread of its own: what a frame and the end write, drawn by the painter from `script` (or from the modules), and whether V8 took the cache. */
async function draw(script: string | undefined): Promise<{ written: string; cacheAccepted: boolean | undefined }> {
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    (async () => {
      const { loadPainterScript } = await import(workerData.loader);
      const loaded = workerData.script === undefined ? undefined : loadPainterScript(workerData.script);
      const { InkPainter } = loaded?.painter ?? (await import(workerData.module));
      let written = "";
      const painter = new InkPainter((text) => (written += text));
      painter.frame({ columns: 80, rows: 24, notes: ["a note"], resized: false, lines: workerData.lines });
      await painter.end(["the last note"]);
      parentPort.postMessage({ written, cacheAccepted: loaded?.cacheAccepted });
    })();`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Ink draws every frame only outside CI (see packages/ui/src/test-support/outside-ci.ts).
  delete env.CI;
  delete env.CONTINUOUS_INTEGRATION;
  const worker = new Worker(code, { eval: true, env, workerData: { loader: LOADER, module: MODULE, script, lines: LINES } });
  try {
    return await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

test("24.6: the TUI's script takes the code cache the build made and draws what ink's modules draw", async () => {
  const fromModules = await draw(undefined);
  expect(fromModules.written.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "")).toContain("▸ app:build  3s\n  │ compiling\n████████████░░░░░░░░░░░░░░░░░░ 2/5 · 2 ran · 0 cached");
  expect(await draw(SCRIPT)).toEqual({ written: fromModules.written, cacheAccepted: true });
}, 60_000);

test("24.6: the TUI's script without its code cache, or with one V8 refuses, compiles as usual and draws the same", async () => {
  const fromModules = await draw(undefined);
  const dir = mkdtempSync(join(tmpdir(), "rbuild-tui-script-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, "tui-painter.cjs");
  copyFileSync(SCRIPT, script);
  expect(await draw(script)).toEqual({ written: fromModules.written, cacheAccepted: false });
  writeFileSync(`${script}.cache`, "not a code cache");
  expect(await draw(script)).toEqual({ written: fromModules.written, cacheAccepted: false });
}, 60_000);
