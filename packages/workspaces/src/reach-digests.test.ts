import { expect, test } from "vitest";
import type { LockGraph } from "./lock-graph.js";
import { reachDigests } from "./reach-digests.js";

/** A graph of named nodes with edges and entries. */
function graphOf(edges: Record<string, string[]>, entries: Record<string, unknown>): LockGraph {
  return { shared: null, start: ({ dir }) => dir, children: (id) => edges[id] ?? [], entry: (id) => entries[id] };
}

const EDGES = { a: ["b"], b: ["c"], c: ["b", "d"], d: [], e: ["d"], lone: [] };
const ENTRIES = { a: 1, b: 2, c: 3, d: 4, e: 5, lone: 6 };

test("22.2: a node's digest changes exactly when something it reaches changes, cycles included", () => {
  const before = reachDigests(graphOf(EDGES, ENTRIES), ["a", "e", "lone"]);
  expect([...before.keys()].sort()).toEqual(["a", "b", "c", "d", "e", "lone"]);
  // b and c reach each other: one component, one digest.
  expect(before.get("b")).toBe(before.get("c"));
  expect(new Set([before.get("a"), before.get("b"), before.get("d"), before.get("e"), before.get("lone")]).size).toBe(5);
  const changed = (entries: Record<string, unknown>, edges: Record<string, string[]> = EDGES): string[] => {
    const after = reachDigests(graphOf(edges, entries), ["a", "e", "lone"]);
    return [...before.keys()].filter((id) => after.get(id) !== before.get(id)).sort();
  };
  expect(changed(ENTRIES)).toEqual([]);
  expect(changed({ ...ENTRIES, d: 40 })).toEqual(["a", "b", "c", "d", "e"]);
  expect(changed({ ...ENTRIES, c: 30 })).toEqual(["a", "b", "c"]);
  expect(changed({ ...ENTRIES, a: 10 })).toEqual(["a"]);
  expect(changed(ENTRIES, { ...EDGES, c: ["b"] })).toEqual(["a", "b", "c"]);
  // Where the walk starts and in which order edges are listed change nothing.
  const reordered = reachDigests(graphOf({ ...EDGES, c: ["d", "b"] }, ENTRIES), ["lone", "c", "e", "a"]);
  expect(Object.fromEntries(reordered)).toEqual(Object.fromEntries(before));
});
