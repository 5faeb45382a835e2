/**
 * A pipeline config checked by Concourse's published rules (reference §1.1, §1.2, §1.3 and §1.6):
 * what the server refuses when the config is set (errors), and what it accepts but warns of
 * (warnings). Unknown top-level keys are dropped by the server (YAML anchors live there) and refused
 * only under `strict`, as `fly validate-pipeline --strict` does; unknown keys in jobs, resources,
 * resource types and groups are refused (strict decoding), and unknown step keys are errors.
 */
import { globRegExp } from "./go-syntax.js";
import { identifierProblem } from "./identifier.js";
import { Problems, type Section, type ValidationResult } from "./problems.js";
import { resourceOf, validateJobSteps, visitResourceSteps, type PipelineIndex } from "./steps.js";
import { goQuoted, isMap, listOf, text, type YamlMap } from "./values.js";

const TOP_LEVEL = new Set(["jobs", "resources", "resource_types", "groups", "var_sources", "display", "prototypes", "user_data"]);
const JOB_KEYS = new Set([
  "name", "old_name", "plan", "serial", "serial_groups", "max_in_flight", "build_log_retention", "build_logs_to_retain", "public",
  "disable_manual_trigger", "disable_reruns", "interruptible", "tags", "on_success", "on_failure", "on_abort", "on_error", "ensure",
]);
const RESOURCE_KEYS = new Set(["name", "type", "source", "old_name", "public", "webhook_token", "check_every", "check_timeout", "tags", "version", "icon", "expose_build_created_by"]);
const RESOURCE_TYPE_KEYS = new Set(["name", "type", "source", "defaults", "privileged", "check_every", "tags", "params"]);
const GROUP_KEYS = new Set(["name", "jobs", "resources"]);
const RETENTION_KEYS = new Set(["builds", "days", "minimum_succeeded_builds"]);
const VAR_SOURCE_KEYS = new Set(["name", "type", "config"]);
const VAR_SOURCE_TYPES = new Set(["vault", "dummy", "ssm", "secretsmanager", "idtoken"]);

export interface ValidateOptions {
  /** As `fly validate-pipeline --strict`: unknown top-level keys are errors too (warnings fail the caller). */
  readonly strict?: boolean;
}

/** Checks a parsed pipeline config (see parsePipeline for YAML text). */
export function validatePipeline(config: unknown, options: ValidateOptions = {}): ValidationResult {
  const problems = new Problems();
  if (!isMap(config)) {
    problems.error("config", "the pipeline must be a map of top-level keys (jobs, resources, ...)");
    return problems;
  }
  for (const key of Object.keys(config).filter((k) => !TOP_LEVEL.has(k))) {
    if (options.strict === true) problems.error("config", `unknown top-level key "${key}" (the server drops it; --strict refuses it)`);
  }
  const jobs = entries(config, "jobs", JOB_KEYS, problems);
  const resources = entries(config, "resources", RESOURCE_KEYS, problems);
  const resourceTypes = entries(config, "resource_types", RESOURCE_TYPE_KEYS, problems);
  const prototypes = entries(config, "prototypes", RESOURCE_TYPE_KEYS, problems);
  const groups = entries(config, "groups", GROUP_KEYS, problems);
  const varSources = entries(config, "var_sources", VAR_SOURCE_KEYS, problems);
  for (const [job, i] of jobs.map((job, i) => [job, i] as const)) {
    if (isMap(job.build_log_retention)) unknownKeys(job.build_log_retention, RETENTION_KEYS, `jobs[${i}].build_log_retention`, problems);
  }

  const interactions = new Map<string, Set<string>>();
  for (const job of jobs) {
    const used = interactions.get(text(job.name)) ?? new Set<string>();
    interactions.set(text(job.name), used);
    for (const root of [job.plan, job.on_success, job.on_failure, job.on_abort, job.on_error, job.ensure]) visitResourceSteps(root, (kind, step) => used.add(resourceOf(step, kind)));
  }
  const index: PipelineIndex = {
    resources: new Set(resources.map((r) => text(r.name))),
    prototypes: new Set(prototypes.map((p) => text(p.name))),
    jobs: jobs.map((job) => text(job.name)),
    interactions,
  };

  validateGroups(groups, index, problems);
  validateNamed(resources, "resources", "resources", problems);
  const used = new Set([...interactions.values()].flatMap((names) => [...names]));
  for (const resource of resources) if (!used.has(text(resource.name))) problems.error("resources", `resource '${text(resource.name)}' is not used`);
  validateNamed(resourceTypes, "resource_types", "resource types", problems);
  validateNamed(prototypes, "prototypes", "resource types", problems);
  validateVarSources(varSources, problems);
  validateJobs(jobs, index, problems);
  validateDisplay(config.display, problems);
  return problems;
}

/** The list under `key`, each entry a map, with strict decoding's unknown keys and wrong shapes as errors. */
function entries(config: YamlMap, key: string, known: ReadonlySet<string>, problems: Problems): YamlMap[] {
  const value = config[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.error("config", `${key}: must be a list`);
    return [];
  }
  const maps: YamlMap[] = [];
  value.forEach((entry, i) => {
    if (!isMap(entry)) {
      problems.error("config", `${key}[${i}]: must be a map`);
      return;
    }
    unknownKeys(entry, known, `${key}[${i}]${text(entry.name) === "" ? "" : ` (${text(entry.name)})`}`, problems);
    maps.push(entry);
  });
  return maps;
}

function unknownKeys(entry: YamlMap, known: ReadonlySet<string>, where: string, problems: Problems): void {
  const unknown = Object.keys(entry).filter((k) => !known.has(k)).sort();
  if (unknown.length > 0) problems.error("config", `${where}: json: unknown field${unknown.length === 1 ? "" : "s"} ${unknown.length === 1 ? `"${unknown[0]}"` : goQuoted(unknown)}`);
}

/** The path Concourse names an entry by: `jobs.build`, or `jobs[2]` when it has no name. */
function pathOf(key: string, entry: YamlMap, i: number): string {
  return text(entry.name) === "" ? `${key}[${i}]` : `${key}.${text(entry.name)}`;
}

function identifier(name: string, path: string, section: Section, problems: Problems): void {
  const problem = name === "" ? undefined : identifierProblem(name);
  if (problem?.kind === "warning") problems.warning(section, `${path}: ${problem.text}`);
}

/** Resources, resource types and prototypes: a name (valid, unique) and a type each. */
function validateNamed(list: readonly YamlMap[], key: string, section: Section, problems: Problems): void {
  const seen = new Map<string, number>();
  list.forEach((entry, i) => {
    const name = text(entry.name);
    const path = pathOf(key, entry, i);
    identifier(name, path, section, problems);
    const other = seen.get(name);
    if (other !== undefined) problems.error(section, `${key}[${other}] and ${key}[${i}] have the same name ('${name}')`);
    else if (name !== "") seen.set(name, i);
    if (name === "") problems.error(section, `${path} has no name`);
    if (text(entry.type) === "") problems.error(section, `${path} has no type`);
  });
}

function validateGroups(groups: readonly YamlMap[], index: PipelineIndex, problems: Problems): void {
  const grouped = new Set<string>();
  const counts = new Map<string, number>();
  groups.forEach((group, i) => {
    const name = text(group.name);
    identifier(name, pathOf("groups", group, i), "groups", problems);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    for (const glob of listOf(group.jobs).map(text)) {
      const pattern = globRegExp(glob);
      const matched = pattern === undefined ? [] : index.jobs.filter((job) => pattern.test(job));
      if (matched.length === 0) problems.error("groups", `no jobs match '${glob}' for group '${name}'`);
      for (const job of matched) grouped.add(job);
    }
    for (const resource of listOf(group.resources).map(text)) {
      if (!index.resources.has(resource)) problems.error("groups", `group '${name}' has unknown resource '${resource}'`);
    }
  });
  for (const [name, count] of counts) if (count > 1) problems.error("groups", `group '${name}' appears ${count} times. Duplicate names are not allowed.`);
  if (groups.length > 0) for (const job of index.jobs) if (!grouped.has(job)) problems.error("groups", `job '${job}' belongs to no group`);
}

function validateVarSources(sources: readonly YamlMap[], problems: Problems): void {
  const names = new Set<string>();
  sources.forEach((source, i) => {
    const name = text(source.name);
    identifier(name, pathOf("var_sources", source, i), "variable sources", problems);
    const type = text(source.type);
    if (!VAR_SOURCE_TYPES.has(type)) problems.error("variable sources", `unknown credential manager type: ${type}`);
    if (names.has(name)) problems.error("variable sources", `duplicate var_source name: ${name}`);
    names.add(name);
  });
}

const nonNegative = (value: unknown): boolean => value === undefined || (typeof value === "number" && value >= 0);

function validateJobs(jobs: readonly YamlMap[], index: PipelineIndex, problems: Problems): void {
  if (jobs.length === 0) problems.error("jobs", "jobs: pipeline must contain at least one job");
  const seen = new Map<string, number>();
  jobs.forEach((job, i) => {
    const name = text(job.name);
    const path = pathOf("jobs", job, i);
    identifier(name, path, "jobs", problems);
    const other = seen.get(name);
    if (other !== undefined) problems.error("jobs", `jobs[${other}] and jobs[${i}] have the same name ('${name}')`);
    else if (name !== "") seen.set(name, i);
    if (name === "") problems.error("jobs", `${path} has no name`);
    if (job.plan !== undefined && job.plan !== null && !Array.isArray(job.plan)) problems.error("config", `${path}.plan: must be a list of steps`);
    const retention = isMap(job.build_log_retention) ? job.build_log_retention : undefined;
    if (job.build_logs_to_retain !== undefined) {
      if (retention !== undefined) problems.error("jobs", `${path} can't use both build_log_retention and build_logs_to_retain`);
      else if (!nonNegative(job.build_logs_to_retain)) problems.error("jobs", `${path} has negative build_logs_to_retain: ${text(job.build_logs_to_retain)}`);
      problems.warning("jobs", `${path}: build_logs_to_retain is deprecated; use build_log_retention`);
    }
    if (retention !== undefined) {
      for (const field of ["builds", "days", "minimum_succeeded_builds"]) {
        if (!nonNegative(retention[field])) problems.error("jobs", `${path} has negative build_log_retention.${field}: ${text(retention[field])}`);
      }
      const builds = retention.builds;
      const minimum = retention.minimum_succeeded_builds;
      if (typeof builds === "number" && builds > 0 && typeof minimum === "number" && minimum > builds) {
        problems.error("jobs", `${path} has build_log_retention.minimum_succeeded_builds (${minimum}) greater than build_log_retention.builds (${builds})`);
      }
    }
    validateJobSteps(job, path, index, problems);
  });
  const cycle = cycleStart(jobs, index);
  if (cycle !== undefined) problems.error("jobs", `pipeline contains a cycle that starts at Job '${cycle}'`);
}

/** The first job (in config order) from which `passed` constraints lead back to itself, if any. */
function cycleStart(jobs: readonly YamlMap[], index: PipelineIndex): string | undefined {
  const upstream = new Map<string, string[]>();
  for (const job of jobs) {
    const passed: string[] = [];
    visitResourceSteps(job.plan, (kind, step) => {
      if (kind !== "get") return;
      for (const glob of listOf(step.passed).map(text)) {
        const pattern = globRegExp(glob);
        if (pattern !== undefined) passed.push(...index.jobs.filter((name) => pattern.test(name)));
      }
    });
    upstream.set(text(job.name), passed);
  }
  const state = new Map<string, "visiting" | "done">();
  const visit = (job: string): boolean => {
    if (state.get(job) === "visiting") return true;
    if (state.get(job) === "done") return false;
    state.set(job, "visiting");
    const found = (upstream.get(job) ?? []).some(visit);
    state.set(job, "done");
    return found;
  };
  for (const job of index.jobs) {
    state.clear();
    if (visit(job)) return job;
  }
  return undefined;
}

function validateDisplay(display: unknown, problems: Problems): void {
  if (!isMap(display)) return;
  const image = text(display.background_image);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(image)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== "http" && scheme !== "https") problems.error("display config", "background_image scheme must be either http, https or relative");
}
