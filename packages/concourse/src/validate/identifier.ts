/**
 * Concourse's identifier rule (reference §1.6, `ValidateIdentifier` in atc/configwarning.go): names of
 * jobs, resources, resource types, groups, var sources and steps start with a lowercase or caseless
 * letter or a digit, then letters, digits, `-`, `_` and `.`; no uppercase. Breaking it is a warning (the
 * config is accepted; `fly validate-pipeline --strict` fails), a name of digits only is warned too, and
 * an empty name is an error. Go's `\d` is ASCII digits only, as JavaScript's is.
 */
const VALID = /^[\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d][\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d\-_.]*$/u;
const FIRST = /^[\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d]/u;
const ALLOWED_CHAR = /[\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d\-_.]/u;

/** Whether `name` is a valid Concourse identifier (no warning). */
export function isValidIdentifier(name: string): boolean {
  return VALID.test(name) && !/^\d+$/.test(name);
}

/** What is wrong with `name` as an identifier, or undefined when nothing is. */
export function identifierProblem(name: string): { readonly kind: "error" | "warning"; readonly text: string } | undefined {
  if (name === "") return { kind: "error", text: "identifier cannot be an empty string" };
  if (/^\d+$/.test(name)) return { kind: "warning", text: `'${name}' is not a valid identifier: must not be only digits` };
  if (VALID.test(name)) return undefined;
  if (!FIRST.test(name)) return { kind: "warning", text: `'${name}' is not a valid identifier: must start with a lowercase letter or a number` };
  const bad = [...name.slice(1)].find((char) => !ALLOWED_CHAR.test(char));
  return { kind: "warning", text: `'${name}' is not a valid identifier: illegal character '${bad ?? ""}'` };
}
