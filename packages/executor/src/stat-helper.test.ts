import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, lstatSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { STAT_FIELDS, StatHelper, StatJob } from "./stat-helper.js";

let root: string;
beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-stat-helper-")));
  mkdirSync(join(root, "src"));
  for (let i = 0; i < 600; i++) writeFileSync(join(root, `src/${i}.txt`), "x".repeat(i % 50));
  symlinkSync("src/1.txt", join(root, "link"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What a job must hold for `path`: the stat (or lstat) of it, or -1 for none. */
function expected(path: string, follow: boolean): number[] | number {
  const stat = follow ? statSync(join(root, path), { throwIfNoEntry: false }) : lstatSync(join(root, path), { throwIfNoEntry: false });
  return stat === undefined ? -1 : [stat.mode, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino];
}

function check(paths: readonly string[], lstatFrom: number, taken: Float64Array): void {
  paths.forEach((path, i) => {
    const at = i * STAT_FIELDS;
    const want = expected(path, i < lstatFrom);
    const got = want === -1 ? taken[at] : [...taken.subarray(at, at + STAT_FIELDS)];
    expect([path, got]).toEqual([path, want]);
  });
}

// Entries before lstatFrom follow links; "link" is both a followed and an unfollowed entry.
const paths = [...Array.from({ length: 600 }, (_, i) => `src/${i}.txt`), "src/missing.txt", "src", "link", "link", "src/0.txt"];
const lstatFrom = paths.length - 2;

test("without a helper thread the main thread stats every entry, following links only before lstatFrom", () => {
  check(paths, lstatFrom, new StatJob(`${root}/`, paths, lstatFrom).finish());
  // A helper that was never started takes nothing either.
  check(paths, lstatFrom, new StatJob(`${root}/`, paths, lstatFrom, new StatHelper()).finish());
});

const helper = new StatHelper();

/**
 * Whether the helper took the whole of a job before the main thread joined: an entry removed after the
 * helper's turn still shows the stat the helper took, where the main thread would find nothing. Waits
 * for the helper however long a loaded machine makes it (a helper that never gets to it times out).
 */
async function helperTookItAll(job: StatJob, removed: string): Promise<boolean> {
  while (!job.doneByHelper) await new Promise((resolve) => setTimeout(resolve, 5));
  rmSync(join(root, removed));
  const taken = job.finish();
  writeFileSync(join(root, removed), "back\n");
  return taken[paths.indexOf(removed) * STAT_FIELDS] !== -1;
}

test("with a helper, a job started early is done by the helper meanwhile, and a later one sees an edit", async () => {
  helper.start();
  expect(helper.running).toBe(true);
  check(paths, lstatFrom, new StatJob(`${root}/`, paths, lstatFrom, helper).finish());
  expect(await helperTookItAll(new StatJob(`${root}/`, paths, lstatFrom, helper), "src/7.txt")).toBe(true);
  writeFileSync(join(root, "src/3.txt"), "edited, longer than before");
  const again = new StatJob(`${root}/`, paths, lstatFrom, helper).finish();
  expect(again[3 * STAT_FIELDS + 1]).toBe(statSync(join(root, "src/3.txt")).size);
  check(paths, lstatFrom, again);
});

test("a cancelled job hands out nothing more: the helper goes on to the next one", async () => {
  helper.start();
  // Seconds of stats, were the helper to do them all before the next job.
  const many = Array.from({ length: 500 }, () => paths).flat();
  const cancelled = new StatJob(`${root}/`, many, many.length, helper);
  cancelled.cancel();
  expect(await helperTookItAll(new StatJob(`${root}/`, paths, lstatFrom, helper), "src/8.txt")).toBe(true);
});
