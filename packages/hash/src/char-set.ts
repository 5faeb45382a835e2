/**
 * Sets of UTF-16 code units, as sorted, disjoint, non-adjacent inclusive
 * ranges. JavaScript regular expressions without the `u` flag (picomatch's)
 * match code units, and paths are JavaScript strings, so the alphabet the
 * glob automaton works over is exactly 0x0000..0xFFFF.
 */
export type CharSet = readonly (readonly [number, number])[];

export const MAX_CODE_UNIT = 0xffff;

/** The normalised set of the given ranges (any order, overlapping allowed). */
export function charSet(ranges: readonly (readonly [number, number])[]): CharSet {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged;
}

export function single(char: string): CharSet {
  const code = char.charCodeAt(0);
  return [[code, code]];
}

export const ANY: CharSet = [[0, MAX_CODE_UNIT]];

export function union(...sets: CharSet[]): CharSet {
  return charSet(sets.flat());
}

export function complement(set: CharSet): CharSet {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_UNIT) out.push([next, MAX_CODE_UNIT]);
  return out;
}

export function has(set: CharSet, code: number): boolean {
  for (const [lo, hi] of set) {
    if (code < lo) return false;
    if (code <= hi) return true;
  }
  return false;
}

/** Where the set starts and stops: every range's first code unit, and the one after its last. */
export function cuts(set: CharSet): number[] {
  return set.flatMap(([lo, hi]) => [lo, hi + 1]);
}
