/**
 * Task keys. A key is the BLAKE3 digest of a canonical, versioned record of
 * everything that can change a task's outputs:
 *
 *   ["rbuild-key", KEY_FORMAT, task, run, cwd, env, inputs, outputs, deps, platform, keyParts?, context?, transform?]
 *
 * encoded as JSON (arrays only, so no key-order ambiguity), where
 * - run:     "sh:" + the command, or "fn:" + the function's source + the digest of
 *            the compiled Buildfile (a function may close over anything in it);
 * - env:     [name, value | null] for each declared variable, by name;
 * - inputs:  [path relative to the workspace root, content digest], by path;
 * - outputs: the declared output globs (they decide what is captured);
 * - deps:    [dep name, digest of the dep's outputs], by name. Outputs, not keys:
 *            a dep that rebuilds to the same bytes leaves its dependents cached;
 * - platform: os and cpu architecture;
 * - keyParts: [name, value] for each of the task's `keyParts`, by name; left
 *            out when there are none, so a task without them keeps the key it
 *            had before they existed (an 11-element record never equals a
 *            10-element one, so leaving it out is unambiguous);
 * - context: [name, from task, value] for each context value the task
 *            receives from an ancestor (see context.ts), by name; left out
 *            when there are none (keyParts is then written even when empty);
 * - transform: ["transform", dep name] for a transform (it starts from that
 *            dep's outputs instead of nothing); left out otherwise (keyParts
 *            and context are then written even when empty: 13 elements).
 * No absolute path enters a key, so keys match across checkouts and machines.
 * Sorting is by UTF-16 code unit, the same everywhere. Changing any of this
 * changes every key: bump KEY_FORMAT.
 */
import { digestBytes, type Digest } from "@rbuild/hash";

export const KEY_FORMAT = 1;

export interface KeyRecord {
  readonly task: string;
  readonly run: string;
  readonly cwd: string;
  readonly env: readonly (readonly [string, string | null])[];
  readonly inputs: readonly (readonly [string, Digest])[];
  readonly outputs: readonly string[];
  readonly deps: readonly (readonly [string, Digest])[];
  readonly platform: string;
  readonly keyParts: readonly (readonly [string, string])[];
  /** The context values the task receives, as [name, from, value]; none when absent. */
  readonly context?: readonly (readonly [string, string, string])[];
  /** The dep it starts from, for a transform. */
  readonly transform?: string | undefined;
}

function byFirst<T extends readonly [string, ...unknown[]]>(a: T, b: T): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** The record in canonical order; what is hashed and what is stored to explain the next miss. */
export function canonicalRecord(record: KeyRecord): KeyRecord {
  return {
    task: record.task,
    run: record.run,
    cwd: record.cwd,
    env: [...record.env].sort(byFirst),
    inputs: [...record.inputs].sort(byFirst),
    outputs: [...record.outputs],
    deps: [...record.deps].sort(byFirst),
    platform: record.platform,
    keyParts: [...record.keyParts].sort(byFirst),
    ...(record.context === undefined || record.context.length === 0 ? {} : { context: [...record.context].sort(byFirst) }),
    ...(record.transform === undefined ? {} : { transform: record.transform }),
  };
}

export function encodeRecord(record: KeyRecord): string {
  const r = canonicalRecord(record);
  const fields = ["rbuild-key", KEY_FORMAT, r.task, r.run, r.cwd, r.env, r.inputs, r.outputs, r.deps, r.platform];
  if (r.transform !== undefined) return JSON.stringify([...fields, r.keyParts, r.context ?? [], ["transform", r.transform]]);
  if (r.context !== undefined) return JSON.stringify([...fields, r.keyParts, r.context]);
  return JSON.stringify(r.keyParts.length === 0 ? fields : [...fields, r.keyParts]);
}

/** The key of an encoded record (see encodeRecord), for callers that keep the encoding too. */
export function keyOfEncoded(encoded: string): Digest {
  return digestBytes(encoded);
}

export function taskKey(record: KeyRecord): Digest {
  return keyOfEncoded(encodeRecord(record));
}

export function decodeRecord(text: string): KeyRecord | undefined {
  try {
    const value = JSON.parse(text) as unknown[];
    if (!Array.isArray(value) || value[0] !== "rbuild-key" || value[1] !== KEY_FORMAT) return undefined;
    const [, , task, run, cwd, env, inputs, outputs, deps, platform, keyParts = [], context, transform] = value;
    const from = Array.isArray(transform) && transform[0] === "transform" && typeof transform[1] === "string" ? { transform: transform[1] as string } : {};
    const received = context === undefined || (Array.isArray(context) && context.length === 0) ? {} : { context };
    return { task, run, cwd, env, inputs, outputs, deps, platform, keyParts, ...received, ...from } as KeyRecord;
  } catch {
    return undefined;
  }
}

/** At most this many `input-changed` reasons are listed; the rest are counted. */
const MAX_INPUT_REASONS = 10;

function changedKeys(before: readonly (readonly [string, unknown])[], after: readonly (readonly [string, unknown])[]): string[] {
  const old = new Map(before);
  const now = new Map(after);
  const changed: string[] = [];
  for (const [name, value] of now) if (!old.has(name) || old.get(name) !== value) changed.push(name);
  for (const name of old.keys()) if (!now.has(name)) changed.push(name);
  return changed.sort();
}

/** The input paths whose digests differ between `previous` and `next` (added, changed or gone), sorted. */
export function changedInputs(previous: KeyRecord, next: KeyRecord): string[] {
  return changedKeys(previous.inputs, next.inputs);
}

/**
 * Why `next` differs from `previous`, as the reasons rbuild reports:
 * `command-changed`, `env-changed: NAME`, `input-changed: path`,
 * `key-part-changed: name`, `context-changed: NAME from task`,
 * `dep-output-changed: task`, `outputs-changed`, `platform-changed`.
 */
export function explainChange(previous: KeyRecord, next: KeyRecord): string[] {
  const reasons: string[] = [];
  if (previous.run !== next.run || previous.cwd !== next.cwd) reasons.push("command-changed");
  for (const name of changedKeys(previous.env, next.env)) reasons.push(`env-changed: ${name}`);
  const inputs = changedKeys(previous.inputs, next.inputs);
  for (const path of inputs.slice(0, MAX_INPUT_REASONS)) reasons.push(`input-changed: ${path}`);
  if (inputs.length > MAX_INPUT_REASONS) reasons.push(`input-changed: (${inputs.length - MAX_INPUT_REASONS} more)`);
  for (const name of changedKeys(previous.keyParts, next.keyParts)) reasons.push(`key-part-changed: ${name}`);
  const contextOf = (record: KeyRecord) => (record.context ?? []).map(([name, from, value]) => [name, `${from}\0${value}`] as const);
  const froms = new Map([...(previous.context ?? []), ...(next.context ?? [])].map(([name, from]) => [name, from]));
  for (const name of changedKeys(contextOf(previous), contextOf(next))) reasons.push(`context-changed: ${name} from ${froms.get(name)}`);
  for (const dep of changedKeys(previous.deps, next.deps)) reasons.push(`dep-output-changed: ${dep}`);
  if (JSON.stringify(previous.outputs) !== JSON.stringify(next.outputs)) reasons.push("outputs-changed");
  if (previous.platform !== next.platform) reasons.push("platform-changed");
  return reasons;
}
