/**
 * How the test double reads a `PUT .../config` body (reference concourse.md §1.1, §1.6, §2.4):
 * YAML or JSON (JSON is YAML); unknown top-level keys dropped (YAML anchor blocks), unknown keys in
 * jobs, resources and resource types refused with the strict decoder's message; then a few of the
 * validation rules, in Concourse's `invalid <section>:\n\t<msg>\n` form. The full rule set is
 * src/validate/'s job: a test can pass it in as `validate`.
 */
import { parse } from "yaml";

export interface FakeJobConfig {
  readonly name: string;
  readonly plan: readonly Record<string, unknown>[];
  readonly disable_manual_trigger?: boolean;
}

export interface FakePipelineConfig {
  readonly jobs: readonly FakeJobConfig[];
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
  const errors = validate?.(config) ?? basicRules(config);
  if (errors.length > 0) return { errors };
  const jobs = ((config.jobs as unknown[] | undefined) ?? []).filter(isMap).map((job) => ({
    name: String(job.name),
    plan: (Array.isArray(job.plan) ? job.plan : []).filter(isMap),
    disable_manual_trigger: job.disable_manual_trigger === true,
  }));
  return { jobs, config };
}

/** A few of §1.6's rules: at least one job, named jobs, known and used resources. */
function basicRules(config: Record<string, unknown>): string[] {
  const jobs = (Array.isArray(config.jobs) ? config.jobs : []).filter(isMap);
  const resources = (Array.isArray(config.resources) ? config.resources : []).filter(isMap).map((r) => String(r.name));
  const jobErrors: string[] = [];
  const resourceErrors: string[] = [];
  if (jobs.length === 0) jobErrors.push("jobs: pipeline must contain at least one job");
  const used = new Set<string>();
  jobs.forEach((job, index) => {
    if (typeof job.name !== "string" || job.name === "") jobErrors.push(`jobs[${index}] has no name`);
    const plan = (Array.isArray(job.plan) ? job.plan : []).filter(isMap);
    plan.forEach((step, at) => {
      for (const kind of ["get", "put"] as const) {
        if (typeof step[kind] !== "string") continue;
        const resource = typeof step.resource === "string" ? step.resource : (step[kind] as string);
        used.add(resource);
        if (!resources.includes(resource)) jobErrors.push(`jobs.${String(job.name)}.plan.do[${at}].${kind}(${step[kind] as string}): unknown resource '${resource}'`);
      }
    });
  });
  for (const name of resources) if (!used.has(name)) resourceErrors.push(`resource '${name}' is not used`);
  const group = (section: string, messages: string[]): string[] => (messages.length === 0 ? [] : [`invalid ${section}:\n${messages.map((m) => `\t${m}\n`).join("")}`]);
  return [...group("resources", resourceErrors), ...group("jobs", jobErrors)];
}
