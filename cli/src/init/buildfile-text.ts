/**
 * An InitPlan as the text of a Buildfile.ts, formatted as a person would:
 * a call or object stays on one line while it fits in WIDTH columns, and
 * breaks one entry per line (with trailing commas) when it does not.
 *
 * Every string of the plan comes from turbo.json and package.json files, which
 * may hold anything, and `rbuild list` runs the Buildfile: so a string reaches
 * the code only as a string literal (`literal`), and a comment only through
 * `comment`, which keeps it on its own line. A line break in a note (U+2028
 * and U+2029 are line breaks to JavaScript) would otherwise end the comment
 * and make the rest of the note code that the next rbuild command runs.
 */
import { firstTarget, noteCount, type InitPlan, type PlannedOptions, type PlannedTask } from "./plan.js";

const WIDTH = 100;

/** A bit of code to lay out: raw text, an object literal, an array literal or a call. */
type Node = string | { readonly object: readonly (readonly [string, Node])[] } | { readonly array: readonly Node[] } | { readonly call: string; readonly args: readonly Node[] };

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Words that cannot name a `const`, and the two names the Buildfile imports. */
const TAKEN = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in " +
    "instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package " +
    "private protected public await arguments eval undefined scripts task"
  ).split(" "),
);

/** `text` as a string literal; JSON.stringify leaves U+2028 and U+2029 as they are, which old parsers read as line breaks. */
function literal(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** A character a comment cannot hold as it is, as an escape: `\n`, `\u2028`. */
const escaped = (char: string): string => (char === "\n" ? "\\n" : char === "\r" ? "\\r" : `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * `text` as one `//` comment line: line breaks and the other control
 * characters (but tab) written as escapes, so that the comment ends where the
 * line does. Only a line break ends a `//` comment (init writes no block
 * comments), so `*\/` stays as it is: notes quote globs like `dist/**\/*.d.ts`.
 */
function comment(text: string): string {
  return `// ${text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, escaped)}\n`;
}

function key(name: string): string {
  return IDENTIFIER.test(name) ? name : literal(name);
}

function strings(items: readonly string[]): Node {
  return { array: items.map(literal) };
}

function flat(node: Node): string {
  if (typeof node === "string") return node;
  if ("object" in node) return node.object.length === 0 ? "{}" : `{ ${node.object.map(([k, v]) => `${key(k)}: ${flat(v)}`).join(", ")} }`;
  if ("array" in node) return `[${node.array.map(flat).join(", ")}]`;
  return `${node.call}(${node.args.map(flat).join(", ")})`;
}

/** `node` laid out starting at `column` on a line indented by `indent`, with `tail` characters after it. */
function layout(node: Node, indent: number, column: number, tail: number): string {
  const one = flat(node);
  if (typeof node === "string" || column + one.length + tail <= WIDTH) return one;
  const pad = " ".repeat(indent + 2);
  if ("object" in node) {
    const lines = node.object.map(([k, v]) => `${pad}${key(k)}: ${layout(v, indent + 2, indent + 2 + key(k).length + 2, 1)},\n`);
    return `{\n${lines.join("")}${" ".repeat(indent)}}`;
  }
  if ("array" in node) return `[\n${node.array.map((item) => `${pad}${layout(item, indent + 2, indent + 2, 1)},\n`).join("")}${" ".repeat(indent)}]`;
  // A call breaks in its last argument, the others staying on the first line.
  const head = `${node.call}(${node.args.slice(0, -1).map((arg) => `${flat(arg)}, `).join("")}`;
  const last = node.args[node.args.length - 1];
  return last === undefined ? one : `${head}${layout(last, indent, column + head.length, tail + 1)})`;
}

function optionEntries(options: PlannedOptions): [string, Node][] {
  const entries: [string, Node][] = [];
  if (options.deps !== undefined) entries.push(["deps", strings(options.deps)]);
  if (options.inputs !== undefined) entries.push(["inputs", options.inputs === "default" ? "undefined" : strings(options.inputs)]);
  if (options.outputs !== undefined) entries.push(["outputs", strings(options.outputs)]);
  if (options.rootInputs !== undefined) entries.push(["rootInputs", strings(options.rootInputs)]);
  if (options.env !== undefined) entries.push(["env", strings(options.env)]);
  if (options.pure !== undefined) entries.push(["pure", String(options.pure)]);
  return entries;
}

/** A name for the task's `const`, or undefined when none reads well or it is taken. */
function identifier(name: string, used: Set<string>): string | undefined {
  const words = name.split(/[^A-Za-z0-9_$]+/).filter(Boolean);
  const camel = words.map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join("");
  if (!IDENTIFIER.test(camel) || TAKEN.has(camel) || used.has(camel)) return undefined;
  used.add(camel);
  return camel;
}

function taskText(planned: PlannedTask, used: Set<string>): string {
  const comments = planned.comments.map(comment).join("");
  const call = planned.scripts;
  if (call === undefined) return comments;
  const entries = optionEntries(call.options);
  if (call.packages !== undefined) entries.push(["packages", strings(call.packages)]);
  if (call.overrides.length > 0) entries.push(["overrides", { object: call.overrides.map(([pkg, options]) => [pkg, { object: optionEntries(options) }] as const) }]);
  const args: Node[] = [literal(planned.name), ...(entries.length === 0 ? [] : [{ object: entries }])];
  const declaration: Node = { call: "task", args: [{ object: [["name", literal(planned.name)], ["deps", { call: "scripts", args }]] }] };
  const name = identifier(planned.name, used);
  const head = name === undefined ? "" : `export const ${name} = `;
  return `${comments}${head}${layout(declaration, 0, head.length, 1)};\n`;
}

/** The whole Buildfile.ts for `plan`. */
export function buildfileText(plan: InitPlan): string {
  const used = new Set<string>();
  const header =
    comment(`Written by \`rbuild init\` from ${plan.source}: each task runs one script in every package that has it.`) +
    comment(`${noteCount(plan) > 0 ? "Read the `rbuild init:` notes" : "Check it"}, then run \`rbuild ${firstTarget(plan)}\`.`) +
    `import { scripts, task } from "rbuild";\n`;
  const global = plan.comments.length === 0 ? "" : `\n${plan.comments.map(comment).join("")}`;
  return `${header}${global}${plan.tasks.map((planned) => `\n${taskText(planned, used)}`).join("")}`;
}
