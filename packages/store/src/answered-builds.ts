/**
 * The history of builds answered without the index (from the freshness
 * record, see fresh-record.ts): `up-to-date/builds.jsonl`, one line per
 * build; the next Store to open folds those lines into the index.
 */
import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const DIR = "up-to-date";
const HISTORY = "builds.jsonl";

/** A build answered from the freshness record: it repeated build `from` with every task cached. */
export interface AnsweredBuild {
  readonly from: number;
  readonly started: number;
  readonly finished: number;
  readonly targets: readonly string[];
  /** Where it ran (see the Store's BuildPlace); absent in lines of older rbuilds. */
  readonly commit?: string | null;
  readonly host?: string;
}

/** Drops the history waiting to be folded (an index started over: the builds it repeats are gone). */
export function removeAnsweredBuilds(storeDir: string): void {
  rmSync(join(storeDir, DIR), { recursive: true, force: true });
}

/**
 * Appends one build to the history waiting to be folded. One short append:
 * lines of concurrent builds do not interleave.
 */
export function noteAnsweredBuild(storeDir: string, build: AnsweredBuild): void {
  mkdirSync(join(storeDir, DIR), { recursive: true });
  appendFileSync(join(storeDir, DIR, HISTORY), `${JSON.stringify(build)}\n`);
}

export function answeredBuildsFile(storeDir: string): string {
  return join(storeDir, DIR, HISTORY);
}
