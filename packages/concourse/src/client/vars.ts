/**
 * `fly set-pipeline -v NAME=VALUE` (reference concourse.md §1.1): before the config is sent, each
 * `((NAME))` given a value is replaced by it, the string value itself where the var is a whole
 * scalar and spliced into the text where it is part of one. Vars given no value (`((token))` for the
 * credential manager, `((source:path))`) are left in place for Concourse to resolve at run time.
 * The result is JSON, which Concourse reads as YAML; without vars the file is sent as it is.
 */
import { parse } from "yaml";
import { err, ok, type Result } from "@rbuild/core";

const VAR = /\(\(\s*([^()\s]+)\s*\)\)/g;

export function interpolateVars(text: string, vars: Readonly<Record<string, string>>): Result<string, string> {
  if (Object.keys(vars).length === 0) return ok(text);
  let config: unknown;
  try {
    config = parse(text, { uniqueKeys: true });
  } catch (error) {
    return err(`it is not YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const value = (node: unknown): unknown => {
    if (typeof node === "string") {
      const whole = /^\(\(\s*([^()\s]+)\s*\)\)$/.exec(node);
      if (whole !== null && Object.hasOwn(vars, whole[1]!)) return vars[whole[1]!];
      return node.replace(VAR, (reference, name: string) => (Object.hasOwn(vars, name) ? vars[name]! : reference));
    }
    if (Array.isArray(node)) return node.map(value);
    if (typeof node === "object" && node !== null) return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, value(inner)]));
    return node;
  };
  return ok(JSON.stringify(value(config)));
}
