/**
 * Bearer tokens: a file of lines `<token> read|write` (blank lines and `#`
 * comments ignored). Without a tokens file the server is open to everyone.
 */
import { readFileSync } from "node:fs";
import { err, ok, type Result } from "@rbuild/core";

export type Scope = "read" | "write";

export function loadTokens(file: string): Result<Map<string, Scope>, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return err(`--tokens: cannot read ${file}: ${(error as Error).message}`);
  }
  const tokens = new Map<string, Scope>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [token, scope, extra] = line.split(/\s+/);
    if (token === undefined || (scope !== "read" && scope !== "write") || extra !== undefined) {
      return err(`--tokens: ${file}:${i + 1}: expected "<token> read" or "<token> write", got "${line}"`);
    }
    tokens.set(token, scope);
  }
  if (tokens.size === 0) return err(`--tokens: ${file} holds no tokens; list at least one "<token> read|write" line, or leave out --tokens for an open server`);
  return ok(tokens);
}
