/**
 * Outputs a transform took over (issue 27.3). A transform (`transform: dep`)
 * starts from its dep's outputs and rewrites or deletes some of them in
 * place, so after a build of the chain the dep's output stats are not as it
 * stored them: its entry could never hold, and each build restored every dep
 * only for its transform to change the same files again.
 *
 * Instead, the dep's entry keeps the stats of the outputs still as it left
 * them and names the transform and the paths it took over (`covered`, made
 * by fresh-entry.ts trustedEntry when that transform ran or was restored in
 * the same build). Such an entry holds only in a graph where that task is the
 * dep's transform: there, the transform comes after the dep and always leaves
 * its whole output area as its own result has it, and that area holds every
 * output of the dep (its globs must match each of them):
 * - up to date: its entry vouches for its outputs' stats;
 * - restored: what its outputs match beyond its manifest goes, what differs
 *   from its layer stack is put back;
 * - run: it first starts from the dep's stored result the same way.
 * So the covered paths are the transform's business, whatever it turns out to
 * be, and a dep need not be restored for a transform that runs anyway. In a
 * graph without that transform (the dep built alone), the entry does not
 * hold: the dep is restored, what its outputs match beyond its manifest (what
 * the transform added) removed first, and the workspace holds its own files.
 */
import type { GraphTask } from "@rbuild/planner";
import type { CoveredOutputs } from "@rbuild/store";

/** Whether an entry of task `name` whose outputs `covered` names as taken over can hold in a graph of `tasks` (see above). */
export function coverHolds(covered: CoveredOutputs | null, name: string, tasks: ReadonlyMap<string, GraphTask>): boolean {
  return covered === null || tasks.get(covered[0])?.transform === name;
}
