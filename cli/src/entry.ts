/**
 * The entry of the bundled CLI (`dist/rbuild.mjs`): the Buildfile API and
 * `main`, in one module. One module means one copy of the API, so the tasks and
 * errors a Buildfile sees are the ones the CLI checks with `instanceof`, and
 * starting rbuild reads one file instead of dozens.
 */
export * from "./index.js";
export { main } from "./main.js";

// The Buildfile API is this module: tell the loader, which lives in a chunk of its own.
(globalThis as { [key: symbol]: unknown })[Symbol.for("rbuild.api-module")] = import.meta.url;

/** Runs the daemon of a workspace (bin/rbuild-daemon.js); its code loads only there. */
export async function serveDaemon(root: string | undefined, targets: readonly string[] = []): Promise<void> {
  return (await import("./daemon.js")).serveDaemon(root, targets);
}
