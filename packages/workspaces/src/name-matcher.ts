/**
 * Package-name patterns: a name, or a glob of names (`@acme/*`), `!` to leave
 * some out. A plain name matches only itself: unlike a path glob, `@acme`
 * does not cover `@acme/ui`.
 *
 * A name is not a path: the `/` of a scoped name is part of the name, so `*`
 * matches across it, as it does in pnpm's and turbo's filters (`*` matches
 * every package, `*core` matches `@acme/core`, `@acme/*` the packages of the
 * scope). The glob engine reads `/` as a separator, so a name and a pattern
 * are matched with each `/` written as SLASH, a character no package name holds.
 */
import { globMatcher } from "@rbuild/hash";

const GLOB = /[*?[\]{}()!+@]/;

/** Stands for `/` in a name and in a pattern while they are matched: a control character, which no name holds. */
const SLASH = "\u0001";

const oneSegment = (text: string): string => text.replaceAll("/", SLASH);

function one(pattern: string): (name: string) => boolean {
  // `@` starts every scoped name: only the rest decides whether this is a glob.
  if (!GLOB.test(pattern.replace(/^@/, ""))) return (name) => name === pattern;
  const matches = globMatcher([oneSegment(pattern)]);
  return (name) => matches(oneSegment(name));
}

export function nameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const include = patterns.filter((p) => !p.startsWith("!")).map(one);
  const exclude = patterns.filter((p) => p.startsWith("!")).map((p) => one(p.slice(1)));
  return (name) => (include.length === 0 || include.some((m) => m(name))) && !exclude.some((m) => m(name));
}
