/** The two bits of Go syntax Concourse's validation parses: `path.Match` globs and `time.ParseDuration`. */

/** A RegExp for a Go `path.Match` pattern (`*`, `?`, `[...]`, `\` escapes), or undefined when the pattern is malformed. */
export function globRegExp(pattern: string): RegExp | undefined {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else if (char === "\\") {
      const next = pattern[++i];
      if (next === undefined) return undefined;
      source += escape(next);
    } else if (char === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end === -1) return undefined;
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith("^");
      if (negated) body = body.slice(1);
      source += `[${negated ? "^/" : ""}${body.replace(/[\]\\]/g, "\\$&")}]`;
      i = end;
    } else source += escape(char);
  }
  try {
    return new RegExp(`^${source}$`, "u");
  } catch {
    return undefined;
  }
}

const escape = (char: string): string => char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Whether Go's `time.ParseDuration` accepts `text` ("1h30m", "90s", "0", "1.5h"). */
export function isGoDuration(text: string): boolean {
  return text === "0" || /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(text);
}
