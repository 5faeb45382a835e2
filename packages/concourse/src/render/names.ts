/**
 * Buildfile task names as Concourse identifiers (reference §1.6, §1.7): lowercase, starting with a
 * letter or digit, then letters, digits, `-`, `_` and `.`. Task names allow much more (`compile:main`,
 * `@acme/app#build`, `Build`), so each is mapped: lowercased, every run of other characters made one
 * `-`, leading and trailing `-` dropped; a name left empty or of digits only gets a `task-` prefix. Two
 * tasks mapped to one name are told apart by `-2`, `-3`, ... (a name that is its own identifier first,
 * then in the order of the task names), so a task's name in the pipeline depends only on the set of
 * names, not on the order they came in.
 */
import { isValidIdentifier } from "../validate/index.js";

const OTHER = /[^\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d_.]+/gu;

/** `name` as a valid identifier, before it is made unique. */
export function concourseName(name: string): string {
  const mapped = name.normalize("NFC").toLowerCase().replace(OTHER, "-").replace(/^[-_.]+|-+$/g, "");
  const named = mapped === "" || /^\d+$/.test(mapped) ? `task-${mapped}`.replace(/-$/, "") : mapped;
  if (!isValidIdentifier(named)) throw new Error(`Internal error: "${name}" mapped to "${named}", not a valid Concourse identifier`);
  return named;
}

/** Each name's unique identifier (see the module note). */
export function uniqueNames(names: Iterable<string>): ReadonlyMap<string, string> {
  const byMapped = new Map<string, string[]>();
  for (const name of [...new Set(names)].sort(compare)) {
    const mapped = concourseName(name);
    byMapped.set(mapped, [...(byMapped.get(mapped) ?? []), name]);
  }
  const taken = new Set(byMapped.keys());
  const result = new Map<string, string>();
  for (const [mapped, names] of byMapped) {
    // A name that is already its identifier keeps it.
    const group = [...names.filter((name) => name === mapped), ...names.filter((name) => name !== mapped)];
    group.forEach((name, i) => {
      if (i === 0) {
        result.set(name, mapped);
        return;
      }
      let n = i + 1;
      while (taken.has(`${mapped}-${n}`)) n++;
      taken.add(`${mapped}-${n}`);
      result.set(name, `${mapped}-${n}`);
    });
  }
  return result;
}

/** Code-unit order: the same on every machine, whatever its locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
