/**
 * Package-name patterns: a name, or a glob of names (`@acme/*`), `!` to leave
 * some out. A plain name matches only itself: unlike a path glob, `@acme`
 * does not cover `@acme/ui`.
 */
import { globMatcher } from "@rbuild/hash";

const GLOB = /[*?[\]{}()!+@]/;

function one(pattern: string): (name: string) => boolean {
  // `@` starts every scoped name: only the rest decides whether this is a glob.
  return GLOB.test(pattern.replace(/^@/, "")) ? globMatcher([pattern]) : (name) => name === pattern;
}

export function nameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const include = patterns.filter((p) => !p.startsWith("!")).map(one);
  const exclude = patterns.filter((p) => p.startsWith("!")).map((p) => one(p.slice(1)));
  return (name) => (include.length === 0 || include.some((m) => m(name))) && !exclude.some((m) => m(name));
}
