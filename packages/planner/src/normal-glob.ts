/**
 * The normal form of a task's glob, decided from its text alone (the planner
 * reads no disk). Every later step reads globs as written: the crawl starts at
 * a glob's static base, captured paths are the base joined with what lies
 * below it, and the output-overlap check compares the texts. So `dist/./a/**`
 * captured `dist/./a/x` (not a path inside the workspace: the stored result
 * was dropped), and it escaped the overlap check against another task's
 * `dist/**`. In the normal form every glob names each path one way:
 *
 * - `.` segments and empty ones (`./dist`, `dist/./a`, `dist//a`, `dist/`)
 *   are removed;
 * - `..` after a segment with no glob syntax folds it away (`x/../dist/**`
 *   is `dist/**`): exact, as that segment names one directory;
 * - a glob with nothing left (`.`, `a/..`) names the whole workspace: `**`;
 * - a leading `!` (an exclude) is kept, and the rest normalised the same way.
 *
 * Refused, with what to write instead: a glob that is empty, absolute, or
 * whose `..` leaves the workspace (`../x`, `a/../../x`), and a `..` after a
 * wildcard segment (`*\/../x`, `**\/../x`): what it undoes depends on what the
 * wildcard matches, which the text does not say.
 */

/** Why a glob has no normal form: `leaves` for one absolute or whose `..` goes above the workspace root. */
export type GlobProblem = "empty" | "leaves" | "after-wildcard";

export type NormalGlob = { readonly ok: true; readonly glob: string } | { readonly ok: false; readonly reason: GlobProblem; readonly problem: string };

/**
 * A segment that names one directory: no wildcard, class, brace, extglob
 * group or escape. (`!`, `+` and `@` are glob syntax only before `(`.)
 */
const LITERAL_SEGMENT = /^[^*?[\]{}()\\]+$/;

/** `pattern` (an input or output glob, `!` for an exclude) in its normal form, or why it has none. */
export function normalGlob(pattern: string): NormalGlob {
  const negated = pattern.startsWith("!");
  const body = negated ? pattern.slice(1) : pattern;
  const refuse = (reason: GlobProblem, problem: string): NormalGlob => ({ ok: false, reason, problem });
  if (body === "") return refuse("empty", "contains an empty glob");
  if (body.startsWith("/") || /^[A-Za-z]:[\\/]/.test(body)) {
    return refuse("leaves", `contains the absolute path ${JSON.stringify(pattern)}; globs are relative to the Buildfile's directory`);
  }
  const kept: string[] = [];
  for (const segment of body.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") {
      kept.push(segment);
      continue;
    }
    const last = kept.pop();
    if (last === undefined) {
      return refuse("leaves", `contains ${JSON.stringify(pattern)}, which leaves the workspace; globs must stay inside the Buildfile's directory`);
    }
    if (!LITERAL_SEGMENT.test(last)) {
      return refuse(
        "after-wildcard",
        `contains ${JSON.stringify(pattern)}, where ".." follows the wildcard segment ${JSON.stringify(last)}: ` +
          `which directory ".." leaves depends on what the wildcard matches; write the glob without ".." (name the directory it means)`,
      );
    }
  }
  const glob = kept.length === 0 ? "**" : kept.join("/");
  // The text itself when it was normal already: a big workspace's tasks share their glob strings.
  return { ok: true, glob: glob === body ? pattern : negated ? `!${glob}` : glob };
}
