/** `rbuild cache stats` and `rbuild cache gc`. */
import { formatSize, type StrayErrors } from "@rbuild/core";
import { collectGarbage, Store } from "@rbuild/store";
import type { Args } from "./args.js";
import { guardingCache } from "./cache-access.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import { openWorkspace } from "./workspace.js";

export async function cacheCommand(args: Args, strays: StrayErrors): Promise<number> {
  const workspace = await openWorkspace(args.directory, process.env, { strays });
  if (!workspace.ok) {
    reportSetupFailures(workspace.error, process.cwd());
    return ExitCode.Usage;
  }
  return guardingCache(workspace.value.cacheDir, process.cwd(), () => cacheWork(args, workspace.value.cacheDir));
}

function cacheWork(args: Args, cacheDir: string): number {
  const store = Store.open({ dir: cacheDir, onInfo: (_code, message) => process.stderr.write(`rbuild: ${message}\n`) });
  try {
    if (args.targets[0] === "gc") {
      const result = collectGarbage(store, {
        ...(args.maxSize === undefined ? {} : { maxBytes: args.maxSize }),
        ...(args.maxAgeDays === undefined ? {} : { maxAgeDays: args.maxAgeDays }),
      });
      process.stdout.write(
        `removed ${result.actionsRemoved} entries and ${result.blobsRemoved} blobs, freed ${formatSize(result.bytesFreed)}; ${formatSize(result.bytesLeft)} left\n` +
          (result.imagesRemoved === 0 ? "" : `removed ${result.imagesRemoved === 1 ? "1 unpacked container image" : `${result.imagesRemoved} unpacked container images`} no stored result was built in\n`),
      );
      return ExitCode.Ok;
    }
    const stats = store.stats();
    const looked = stats.cached + stats.ran;
    const rate = looked === 0 ? "no builds yet" : `${((100 * stats.cached) / looked).toFixed(1)}% (${stats.cached} of ${looked} pure task runs)`;
    process.stdout.write(
      [
        `cache:    ${store.dir}`,
        `entries:  ${stats.actions}`,
        `blobs:    ${stats.blobs} (${formatSize(stats.bytes)})`,
        `hit rate: ${rate}`,
        `builds:   ${stats.builds}`,
        "",
      ].join("\n"),
    );
    return ExitCode.Ok;
  } finally {
    store.close();
  }
}
