/**
 * How the test double reads a `PUT .../config` body (reference concourse.md §1.1, §1.6, §2.4):
 * YAML or JSON (JSON is YAML); unknown top-level keys dropped (YAML anchor blocks), unknown keys in
 * jobs, resources and resource types refused with the strict decoder's message; then Concourse's
 * validation rules (../validate/, unless a test passes its own `validate`): errors in the
 * `invalid <section>:\n\t<msg>\n` form of a 400 answer, warnings for the 200/201 answer.
 */
import { parse } from "yaml";
import { errorMessages, validatePipeline } from "../validate/index.js";

export interface FakeJobConfig {
  readonly name: string;
  readonly plan: readonly Record<string, unknown>[];
  readonly disable_manual_trigger?: boolean;
}

export interface FakeWarning {
  readonly type: string;
  readonly message: string;
}

export interface FakePipelineConfig {
  readonly jobs: readonly FakeJobConfig[];
  readonly warnings: readonly FakeWarning[];
  /** The config as the server keeps it: known top-level keys only. */
  readonly config: Record<string, unknown>;
}

const TOP_LEVEL = ["jobs", "resources", "resource_types", "groups", "var_sources", "display", "prototypes", "user_data"];
const JOB_KEYS = new Set([
  "name", "old_name", "plan", "serial", "serial_groups", "max_in_flight", "build_log_retention", "build_logs_to_retain", "public",
  "disable_manual_trigger", "disable_reruns", "interruptible", "tags", "on_success", "on_failure", "on_abort", "on_error", "ensure",
]);
const RESOURCE_KEYS = new Set(["name", "type", "source", "old_name", "public", "webhook_token", "check_every", "check_timeout", "tags", "version", "icon", "expose_build_created_by"]);
const RESOURCE_TYPE_KEYS = new Set(["name", "type", "source", "defaults", "privileged", "check_every", "tags", "params"]);

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The config, or the `errors` a 400 answer lists. */
export function readPipelineConfig(text: string, validate?: (config: Record<string, unknown>) => string[]): FakePipelineConfig | { errors: string[] } {
  let document: unknown;
  try {
    document = parse(text, { uniqueKeys: true });
  } catch (error) {
    return { errors: [`malformed config: error converting YAML to JSON: ${(error as Error).message.split("\n")[0]}`] };
  }
  if (!isMap(document)) return { errors: ["malformed config: error unmarshaling JSON: json: cannot unmarshal into Go value of type atc.Config"] };
  const config: Record<string, unknown> = {};
  for (const key of TOP_LEVEL) if (key in document) config[key] = document[key];
  for (const [section, keys] of [["jobs", JOB_KEYS], ["resources", RESOURCE_KEYS], ["resource_types", RESOURCE_TYPE_KEYS]] as const) {
    for (const entry of Array.isArray(config[section]) ? (config[section] as unknown[]) : []) {
      const unknown = isMap(entry) ? Object.keys(entry).find((key) => !keys.has(key)) : undefined;
      if (unknown !== undefined) return { errors: [`malformed config: error unmarshaling JSON: while decoding JSON: json: unknown field "${unknown}"`] };
    }
  }
  let warnings: FakeWarning[] = [];
  let errors: string[];
  if (validate !== undefined) errors = validate(config);
  else {
    const result = validatePipeline(config);
    errors = errorMessages(result.errors);
    warnings = result.warnings.map((warning) => ({ type: warningType(warning.message), message: warning.message }));
  }
  if (errors.length > 0) return { errors };
  const jobs = ((config.jobs as unknown[] | undefined) ?? []).filter(isMap).map((job) => ({
    name: String(job.name),
    plan: (Array.isArray(job.plan) ? job.plan : []).filter(isMap),
    disable_manual_trigger: job.disable_manual_trigger === true,
  }));
  return { jobs, config, warnings };
}

/** The `type` of a warning in a save's answer: `invalid_identifier` is the one the reference shows. */
export function warningType(message: string): string {
  return /is not a valid identifier/.test(message) ? "invalid_identifier" : "warning";
}
