export { digestBytes, digestFile, isDigest, DigestBuilder } from "./digest.js";
export type { Digest } from "./digest.js";
export { expandGlobs, globMatcher, showBytes, splitPatterns } from "./expand-globs.js";
export type { ExpandOptions } from "./expand-globs.js";
export { FileHasher, MemoryStatCache, trustedStat } from "./file-hasher.js";
export type { FileState, StatCacheBackend } from "./file-hasher.js";
export { crossingGlobs, excludesTouching, overlappingOutputs, staticBase } from "./glob-overlap.js";
export type { OutputGlobs, Overlap } from "./glob-overlap.js";
