/**
 * The TUI's thread started before the Buildfile loads (issue 24.6): loading
 * ink takes some 100 ms of CPU, which on a machine of few cores is taken from
 * the build's tasks when it happens during the build, but costs nothing while
 * the main thread loads the Buildfile and plans and the other cores idle. The
 * live area is still drawn only START_AFTER_MS into the build (TuiReporter).
 *
 * Only for a build that cannot be a no-op: one in a workspace where no build
 * has left a freshness record (the no-op fast path needs one), so that a no-op
 * still never loads ink. Other builds start the thread as the live area is
 * first drawn, as before.
 */
import { freshRecordFileId } from "@rbuild/store";
import type { loadTui, TuiThread } from "@rbuild/ui";

type TuiModule = Awaited<ReturnType<typeof loadTui>>;

export class EarlyTui {
  #thread: Promise<TuiThread | undefined> | undefined;

  /** Starts the thread once `tui` has loaded, if no build has left a freshness record for `root` in `cacheDir`. */
  start(tui: Promise<TuiModule>, root: string, cacheDir: string): void {
    if (this.#thread !== undefined || freshRecordFileId(cacheDir, root) !== "none") return;
    // A reporter that cannot load fails where it is awaited (runBuild); here it only means no thread.
    this.#thread = tui.then(({ startTuiThread }) => startTuiThread()).catch(() => undefined);
  }

  /** The thread, for the reporter, which owns it from then on. */
  take(): Promise<TuiThread | undefined> {
    const thread = this.#thread ?? Promise.resolve(undefined);
    this.#thread = undefined;
    return thread;
  }

  /** Stops a thread no reporter took (the run ended before its build started). */
  drop(): void {
    void this.take().then((thread) => thread?.stop());
  }
}
