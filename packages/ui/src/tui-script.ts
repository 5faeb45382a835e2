/**
 * Loading ink on the TUI's thread from one script with V8's code cache
 * (issue 24.6): compiling ink, React and yoga's glue is a good part of the
 * thread's start-up, and V8 can skip it with a code cache of the script.
 *
 * The format: the build (cli/scripts/bundle.mjs) writes `tui-painter.cjs`,
 * tui-painter.ts with ink, React and yoga as one CommonJS script (their three
 * top-level awaits taken out: a script has none), and beside it
 * `tui-painter.cjs.cache`, V8's code cache for that script as WRAPPER wraps
 * it, made by `makeCodeCache` with the Node that built it, after a warm-up
 * frame (so it holds the functions a frame compiles, not only the top level).
 * V8 takes the cache only for the same source, V8 version and flags; anything
 * else (another Node, the daemon's --expose-gc, no cache file) compiles the
 * script as usual. Nothing is written at run time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Script } from "node:vm";
import type { Frame } from "./tui-painter.js";

type PainterModule = typeof import("./tui-painter.js");

/** The CommonJS wrapper the script runs in (its cache is for exactly this text). */
const wrap = (source: string): string => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;

export interface LoadedScript {
  readonly painter: PainterModule;
  /** Whether V8 took the code cache (false without one). */
  readonly cacheAccepted: boolean;
  readonly script: Script;
}

/** Runs the painter's script `file`, with the code cache beside it when there is one V8 takes. */
export function loadPainterScript(file: string): LoadedScript {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    // No cache (a build that made none): compiled as usual.
  }
  const script = new Script(wrap(readFileSync(file, "utf8")), { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
  const module = { exports: {} as PainterModule };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  return { painter: module.exports, cacheAccepted: cachedData !== undefined && script.cachedDataRejected === false, script };
}

/** A frame like the build's (a running task, a line of its output, the bar), drawn to nowhere to warm ink up. */
export const WARM_FRAME: Frame = {
  columns: 120,
  rows: 40,
  notes: [],
  resized: false,
  lines: ["\x1b[1m▸\x1b[0m warm:up  \x1b[2m0s\x1b[0m", "\x1b[2m  │ output … ✓\x1b[0m", `\x1b[32m${"█".repeat(10)}\x1b[0m\x1b[36m${"▒".repeat(5)}\x1b[0m\x1b[2m${"░".repeat(15)}\x1b[0m 1/2 · 1 ran · 0 cached · ETA <1s`],
};

/** Draws two frames and the end to nowhere: the first frame's one-time costs (yoga's set-up, the string width tables, the JIT). */
export async function warmUp({ InkPainter }: PainterModule): Promise<void> {
  const warm = new InkPainter(() => {});
  warm.frame(WARM_FRAME);
  warm.frame({ ...WARM_FRAME, lines: WARM_FRAME.lines.slice(1) });
  await warm.end([]);
}

/** Writes `file`'s code cache (`file.cache`): the script loaded and warmed up, then V8's cache of what it compiled. */
export async function makeCodeCache(file: string): Promise<void> {
  const { painter, script } = loadPainterScript(file);
  await warmUp(painter);
  writeFileSync(`${file}.cache`, script.createCachedData());
}
