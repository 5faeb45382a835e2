/**
 * A job's steps, read and checked as Concourse does (reference §1.4 and §1.6, atc/steps.go and
 * atc/step_validator.go). A step is a map whose type is found by walking the keys in StepPrecedence:
 * modifiers (ensure, on_*, across, attempts, timeout) wrap what follows, the first core step ends the
 * walk, and whatever keys neither claimed are `unknown fields`. Messages carry the path Concourse
 * prints, `jobs.<job>.plan.do[0].get(<name>): <message>`.
 */
import { globRegExp, isGoDuration } from "./go-syntax.js";
import { identifierProblem } from "./identifier.js";
import type { Problems } from "./problems.js";
import { validateTaskConfig } from "./task-config.js";
import { goQuoted, isMap, listOf, text, type YamlMap } from "./values.js";

/** Each key of StepPrecedence, in order, with the fields its step type claims. */
const PRECEDENCE: readonly (readonly [key: string, fields: readonly string[], core: boolean])[] = [
  ["ensure", ["ensure"], false],
  ["on_error", ["on_error"], false],
  ["on_abort", ["on_abort"], false],
  ["on_failure", ["on_failure"], false],
  ["on_success", ["on_success"], false],
  ["across", ["across", "fail_fast"], false],
  ["attempts", ["attempts"], false],
  ["run", ["run", "type", "params", "privileged", "tags", "container_limits", "timeout"], true],
  ["task", ["task", "file", "config", "image", "params", "vars", "privileged", "hermetic", "input_mapping", "output_mapping", "container_limits", "tags", "timeout"], true],
  ["put", ["put", "resource", "params", "tags", "timeout", "get_params", "no_get", "inputs"], true],
  ["get", ["get", "resource", "version", "params", "passed", "trigger", "tags", "timeout"], true],
  ["timeout", ["timeout"], false],
  ["set_pipeline", ["set_pipeline", "file", "team", "vars", "var_files", "instance_vars"], true],
  ["load_var", ["load_var", "file", "format", "reveal"], true],
  ["try", ["try"], true],
  ["do", ["do", "tags"], true],
  ["in_parallel", ["in_parallel", "tags"], true],
];

/** What the validator needs to know of the whole pipeline. */
export interface PipelineIndex {
  readonly resources: ReadonlySet<string>;
  readonly prototypes: ReadonlySet<string>;
  /** Job names, in order. */
  readonly jobs: readonly string[];
  /** The resources each job gets or puts. */
  readonly interactions: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The resource a get or put step uses: `resource:`, or the step's name. */
export function resourceOf(step: YamlMap, kind: "get" | "put"): string {
  return text(step.resource) || text(step[kind]);
}

/** Calls `visit` for every get and put step in `step`, however deep (hooks, do, in_parallel, try included). */
export function visitResourceSteps(step: unknown, visit: (kind: "get" | "put", step: YamlMap) => void): void {
  if (Array.isArray(step)) {
    for (const sub of step) visitResourceSteps(sub, visit);
    return;
  }
  if (!isMap(step)) return;
  for (const hook of ["ensure", "on_error", "on_abort", "on_failure", "on_success", "try"]) if (hook in step) visitResourceSteps(step[hook], visit);
  if ("do" in step) visitResourceSteps(step.do, visit);
  if ("in_parallel" in step) visitResourceSteps(isMap(step.in_parallel) ? step.in_parallel.steps : step.in_parallel, visit);
  if ("get" in step) visit("get", step);
  else if ("put" in step) visit("put", step);
}

/** Checks one job's whole plan (and its hooks); `path` is e.g. `jobs.build`. */
export function validateJobSteps(job: YamlMap, path: string, index: PipelineIndex, problems: Problems): void {
  new StepValidator(index, problems, [path, ".plan"]).job(job);
}

class StepValidator {
  readonly #index: PipelineIndex;
  readonly #problems: Problems;
  readonly #context: string[];
  readonly #seenGets = new Set<string>();
  readonly #varScopes: Set<string>[] = [new Set()];

  constructor(index: PipelineIndex, problems: Problems, context: string[]) {
    this.#index = index;
    this.#problems = problems;
    this.#context = context;
  }

  /** The plan as Concourse wraps it: `do: plan`, then the job's hooks from the inside out. */
  job(job: YamlMap): void {
    this.#within(".do", () => listOf(job.plan).forEach((step, i) => this.#within(`[${i}]`, () => this.step(step))));
    for (const hook of ["on_success", "on_failure", "on_abort", "on_error", "ensure"]) {
      if (job[hook] !== undefined) this.#within(`.${hook}`, () => this.step(job[hook]));
    }
  }

  step(step: unknown): void {
    if (!isMap(step)) {
      this.#error("no step configured");
      return;
    }
    const left = new Set(Object.keys(step));
    const modifiers: string[] = [];
    let core: string | undefined;
    for (const [key, fields, isCore] of PRECEDENCE) {
      if (!left.has(key)) continue;
      for (const field of fields) left.delete(field);
      if (isCore) {
        core = key;
        break;
      }
      modifiers.push(key);
    }
    if (left.size > 0) this.#error(`unknown fields ${goQuoted([...left].sort())}`);
    if (core === undefined) {
      this.#error(modifiers.length === 0 ? "no step configured" : "no core step type declared (e.g. get, put, task, etc.)");
      return;
    }
    this.#wrapped(step, modifiers, core, false);
  }

  /** Modifiers wrap the core step: the outermost first (StepPrecedence order); each checks the step inside before itself. */
  #wrapped(step: YamlMap, modifiers: readonly string[], core: string, underAcross: boolean): void {
    const [outer, ...inner] = modifiers;
    if (outer === undefined) {
      this.#core(step, core, underAcross);
      return;
    }
    if (outer === "across") {
      this.#within(".across", () => {
        this.#varScopes.push(new Set());
        const vars = listOf(step.across);
        if (vars.length === 0) this.#error("no vars specified");
        vars.forEach((entry, i) =>
          this.#within(`[${i}]`, () => {
            const v = isMap(entry) ? entry : {};
            this.#declareVar(text(v.var));
            const limit = v.max_in_flight;
            if (limit !== undefined && limit !== "all" && !(typeof limit === "number" && limit > 0)) this.#within(".max_in_flight", () => this.#error("must be greater than 0"));
          }),
        );
        this.#wrapped(step, inner, core, true);
        this.#varScopes.pop();
      });
      return;
    }
    // The task or set_pipeline step is then not directly under an across: its name is checked.
    this.#wrapped(step, inner, core, false);
    if (outer === "attempts") {
      const attempts = step.attempts;
      if (!(typeof attempts === "number" && Number.isInteger(attempts) && attempts > 0)) this.#within(".attempts", () => this.#error("must be greater than 0"));
    } else if (outer === "timeout") {
      if (!isGoDuration(text(step.timeout))) this.#within(".timeout", () => this.#error(`invalid duration '${text(step.timeout)}'`));
    } else {
      this.#within(`.${outer}`, () => this.step(step[outer]));
    }
  }

  #core(step: YamlMap, core: string, underAcross: boolean): void {
    switch (core) {
      case "get":
        return this.#get(step);
      case "put":
        return this.#named("put", step, () => this.#resource(resourceOf(step, "put")));
      case "task":
        return this.#named("task", step, () => this.#task(step), underAcross);
      case "set_pipeline":
        return this.#named("set_pipeline", step, () => this.#needsFile(step), underAcross);
      case "load_var":
        return this.#named("load_var", step, () => {
          this.#declareVar(text(step.load_var));
          this.#needsFile(step);
        });
      case "run":
        return this.#within(`.run(${text(step.type)}.${text(step.run)})`, () => {
          const problem = identifierProblem(text(step.run));
          if (problem !== undefined) this.#error(problem.text);
          if (!this.#index.prototypes.has(text(step.type))) this.#error(`unknown prototype '${text(step.type)}'`);
        });
      case "try":
        return this.#within(".try", () => this.step(step.try));
      case "do":
        return this.#within(".do", () => listOf(step.do).forEach((sub, i) => this.#within(`[${i}]`, () => this.step(sub))));
      case "in_parallel": {
        const steps = isMap(step.in_parallel) ? listOf(step.in_parallel.steps) : listOf(step.in_parallel);
        return this.#within(".in_parallel", () => steps.forEach((sub, i) => this.#within(`.steps[${i}]`, () => this.step(sub))));
      }
      default:
        throw new Error(`Internal error: no check for the core step "${core}"`);
    }
  }

  /** A step with a name: its context, and the identifier rule (not for task and set_pipeline steps right under across). */
  #named(kind: string, step: YamlMap, check: () => void, underAcross = false): void {
    const name = text(step[kind]);
    this.#within(`.${kind}(${name})`, () => {
      if (!underAcross) this.#identifier(name);
      check();
    });
  }

  #get(step: YamlMap): void {
    const name = text(step.get);
    this.#named("get", step, () => {
      if (this.#seenGets.has(name)) this.#error("repeated name");
      this.#seenGets.add(name);
      const resource = resourceOf(step, "get");
      this.#resource(resource);
      this.#within(".passed", () => {
        for (const glob of listOf(step.passed).map(text)) {
          const pattern = globRegExp(glob);
          if (pattern === undefined) {
            this.#error(`invalid glob expression '${glob}'`);
            continue;
          }
          const matched = this.#index.jobs.filter((job) => pattern.test(job));
          if (matched.length === 0) this.#error(`no matching job(s) for '${glob}'`);
          for (const job of matched) {
            if (!this.#index.interactions.get(job)?.has(resource)) this.#error(`job '${job}' does not interact with resource '${resource}'`);
          }
        }
      });
    });
  }

  #task(step: YamlMap): void {
    const hasFile = step.file !== undefined && step.file !== "";
    const hasConfig = step.config !== undefined && step.config !== null;
    if (!hasFile && !hasConfig) this.#error("must specify either `file:` or `config:`");
    if (hasFile && hasConfig) this.#error("must specify one of `file:` or `config:`, not both");
    const config = isMap(step.config) ? step.config : undefined;
    if (config !== undefined && (config.image_resource !== undefined || config.rootfs_uri !== undefined) && text(step.image) !== "") {
      this.#warning("specifies image: on the step but also specifies an image under config: - the image: on the step takes precedence");
    }
    if (step.hermetic === true) this.#warning("specifies `hermetic:` only works against worker containerd runtime");
    if (hasConfig) this.#within(".config", () => validateTaskConfig(step.config, (message) => this.#error(message)));
  }

  #resource(name: string): void {
    if (!this.#index.resources.has(name)) this.#error(`unknown resource '${name}'`);
  }

  #needsFile(step: YamlMap): void {
    if (text(step.file) === "") this.#error("no file specified");
  }

  #identifier(name: string): void {
    const problem = identifierProblem(name);
    if (problem === undefined) return;
    if (problem.kind === "error") this.#error(problem.text);
    else this.#warning(problem.text);
  }

  #declareVar(name: string): void {
    const scope = this.#varScopes.at(-1)!;
    if (scope.has(name)) this.#error("repeated var name");
    else if (this.#varScopes.some((s) => s.has(name))) this.#warning(`shadows local var '${name}'`);
    scope.add(name);
  }

  #within(context: string, check: () => void): void {
    this.#context.push(context);
    try {
      check();
    } finally {
      this.#context.pop();
    }
  }

  #error(message: string): void {
    this.#problems.error("jobs", `${this.#context.join("")}: ${message}`);
  }

  #warning(message: string): void {
    this.#problems.warning("jobs", `${this.#context.join("")}: ${message}`);
  }
}
