/**
 * Seeded randomness for the loops that damage a workspace at random (random
 * kills, random byte flips): each seed is a test of its own, so a failure
 * names its seed, and `RBUILD_TEST_SEED=<n>` starts the loop there to replay
 * it or to try other seeds.
 */

/** A small seeded PRNG (mulberry32): numbers in [0, 1), the same for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seeds a loop runs: `count` of them, from RBUILD_TEST_SEED (default 1). */
export function seeds(count: number): number[] {
  const first = Number(process.env.RBUILD_TEST_SEED ?? 1);
  if (!Number.isSafeInteger(first)) throw new Error(`RBUILD_TEST_SEED must be a whole number, not ${process.env.RBUILD_TEST_SEED}`);
  return Array.from({ length: count }, (_, i) => first + i);
}
