/**
 * Pipeline YAML text to a value, as strictly as Concourse reads it: a duplicate key is an error
 * (`key "type" already set in map`, concourse/concourse#9026), as is any YAML syntax error.
 */
import { parseDocument } from "yaml";
import { err, ok, type Result } from "@rbuild/core";

/** The parsed config, or the YAML problems (each with its line) when it cannot be read. */
export function parsePipeline(yamlText: string): Result<unknown, readonly string[]> {
  const document = parseDocument(yamlText, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    return err(document.errors.map((error) => (error.code === "DUPLICATE_KEY" ? `${error.message.split("\n")[0]} (a key set twice in one map; Concourse refuses it)` : error.message.split("\n")[0]!)));
  }
  return ok(document.toJS({ maxAliasCount: 10_000 }) as unknown);
}
