import { describe, expect, test } from "vitest";
import { errorMessages, formatErrors, parsePipeline, validatePipeline, type ValidationResult } from "../index.js";

/** A valid pipeline to break one rule at a time: `b` waits for `a` on resource `src`. */
const base = (): Record<string, any> => ({
  resources: [{ name: "src", type: "git", source: { uri: "https://example.invalid/r.git" } }],
  jobs: [
    { name: "a", plan: [{ get: "src", trigger: true }, { task: "t", config: { platform: "linux", run: { path: "true" } } }] },
    { name: "b", plan: [{ get: "src", passed: ["a"] }] },
  ],
});

const messages = (result: ValidationResult): { errors: string[]; warnings: string[] } => ({
  errors: result.errors.map((p) => `${p.section}: ${p.message}`),
  warnings: result.warnings.map((p) => `${p.section}: ${p.message}`),
});

const check = (config: unknown, strict = false): { errors: string[]; warnings: string[] } => messages(validatePipeline(config, { strict }));

describe("28.1: rbuild concourse validate, Concourse's rules one at a time", () => {
  test("28.1: the base pipeline is valid", () => {
    expect(check(base())).toEqual({ errors: [], warnings: [] });
  });

  test("28.1: no jobs at all", () => {
    expect(check({ resources: [] })).toEqual({ errors: ["jobs: jobs: pipeline must contain at least one job"], warnings: [] });
  });

  test("28.1: unknown keys in a job and a resource are refused; unknown top-level keys only under strict", () => {
    const config = base();
    config.jobs[0].pubic = true;
    config.resources[0].chek_every = "1m";
    config["x-anchors"] = { image: "node" };
    expect(check(config)).toEqual({ errors: ['config: jobs[0] (a): json: unknown field "pubic"', 'config: resources[0] (src): json: unknown field "chek_every"'], warnings: [] });
    expect(check(config, true).errors).toEqual([
      'config: unknown top-level key "x-anchors" (the server drops it; --strict refuses it)',
      'config: jobs[0] (a): json: unknown field "pubic"',
      'config: resources[0] (src): json: unknown field "chek_every"',
    ]);
  });

  test("28.1: duplicate job and resource names, a job and a resource without a name, a resource without a type", () => {
    const config = base();
    config.jobs.push({ name: "a", plan: [] }, { plan: [] });
    config.resources.push({ name: "src", type: "git" }, { type: "git" }, { name: "other" });
    expect(check(config).errors).toEqual([
      "resources: resources[0] and resources[1] have the same name ('src')",
      "resources: resources[2] has no name",
      "resources: resources.other has no type",
      "resources: resource '' is not used",
      "resources: resource 'other' is not used",
      "jobs: jobs[0] and jobs[2] have the same name ('a')",
      "jobs: jobs[3] has no name",
    ]);
  });

  test("28.1: an unused resource", () => {
    const config = base();
    config.resources.push({ name: "unused", type: "time" });
    expect(check(config).errors).toEqual(["resources: resource 'unused' is not used"]);
  });

  test("28.1: invalid identifiers are warnings; an empty step name is an error", () => {
    const config = base();
    config.jobs[0].name = "Build";
    config.jobs[1].plan[0].passed = ["Build"];
    config.resources[0].name = "_src";
    config.jobs[0].plan[0].get = "_src";
    config.jobs[1].plan[0].get = "_src";
    config.jobs.push({ name: "123", plan: [{ task: "", config: { platform: "linux" } }] });
    expect(check(config)).toEqual({
      errors: ["jobs: jobs.123.plan.do[0].task(): identifier cannot be an empty string"],
      warnings: [
        "resources: resources._src: '_src' is not a valid identifier: must start with a lowercase letter or a number",
        "jobs: jobs.Build: 'Build' is not a valid identifier: must start with a lowercase letter or a number",
        "jobs: jobs.Build.plan.do[0].get(_src): '_src' is not a valid identifier: must start with a lowercase letter or a number",
        "jobs: jobs.b.plan.do[0].get(_src): '_src' is not a valid identifier: must start with a lowercase letter or a number",
        "jobs: jobs.123: '123' is not a valid identifier: must not be only digits",
      ],
    });
    expect(check({ ...base(), jobs: [{ name: "a:b", plan: [{ get: "src" }] }] }).warnings).toEqual(["jobs: jobs.a:b: 'a:b' is not a valid identifier: illegal character ':'"]);
  });

  test("28.1: passed naming a job that does not use the resource, and a glob that matches no job", () => {
    const config = base();
    config.jobs.push({ name: "c", plan: [{ task: "t", config: { platform: "linux" } }] });
    config.jobs[1].plan[0].passed = ["c", "nope-*", "a"];
    expect(check(config).errors).toEqual([
      "jobs: jobs.b.plan.do[0].get(src).passed: job 'c' does not interact with resource 'src'",
      "jobs: jobs.b.plan.do[0].get(src).passed: no matching job(s) for 'nope-*'",
    ]);
  });

  test("28.1: a get of an unknown resource, a put of one, and a get name repeated in a job", () => {
    const config = base();
    config.jobs[1].plan.push({ get: "src" }, { get: "lib" }, { put: "out", params: {} });
    expect(check(config).errors).toEqual([
      "jobs: jobs.b.plan.do[1].get(src): repeated name",
      "jobs: jobs.b.plan.do[2].get(lib): unknown resource 'lib'",
      "jobs: jobs.b.plan.do[3].put(out): unknown resource 'out'",
    ]);
  });

  test("28.1: unknown step fields, two core steps in one map, no core step, no step", () => {
    const config = base();
    config.jobs[1].plan.push({ get: "src", resource: "src", version: "every", trigerr: true }, { get: "src2", resource: "src", put: "src" }, { attempts: 2 }, { nothing: 1 });
    expect(check(config).errors).toEqual([
      'jobs: jobs.b.plan.do[1]: unknown fields ["trigerr"]',
      "jobs: jobs.b.plan.do[1].get(src): repeated name",
      // put comes before get in StepPrecedence: the put is the step, and the get is left over.
      'jobs: jobs.b.plan.do[2]: unknown fields ["get"]',
      "jobs: jobs.b.plan.do[3]: no core step type declared (e.g. get, put, task, etc.)",
      'jobs: jobs.b.plan.do[4]: unknown fields ["nothing"]',
      "jobs: jobs.b.plan.do[4]: no step configured",
    ]);
  });

  test("28.1: a task needs exactly one of file: and config:; the config needs a platform and named inputs and outputs", () => {
    const config = base();
    config.jobs[1].plan.push(
      { task: "none" },
      { task: "both", file: "ci/t.yml", config: { platform: "linux" } },
      { task: "bad", config: { inputs: [{ path: "x" }], outputs: [{}], imgae_resource: {} } },
    );
    expect(check(config).errors).toEqual([
      "jobs: jobs.b.plan.do[1].task(none): must specify either `file:` or `config:`",
      "jobs: jobs.b.plan.do[2].task(both): must specify one of `file:` or `config:`, not both",
      'jobs: jobs.b.plan.do[3].task(bad).config: unknown fields ["imgae_resource"]',
      "jobs: jobs.b.plan.do[3].task(bad).config: missing 'platform'",
      "jobs: jobs.b.plan.do[3].task(bad).config: input in position 0 is missing a name",
      "jobs: jobs.b.plan.do[3].task(bad).config: output in position 0 is missing a name",
    ]);
  });

  test("28.1: a step image beside a config image, and hermetic, are warnings", () => {
    const config = base();
    config.jobs[1].plan.push({ task: "t", image: "img", hermetic: true, config: { platform: "linux", image_resource: { type: "registry-image", source: { repository: "node" } } } });
    expect(check(config)).toEqual({
      errors: [],
      warnings: [
        "jobs: jobs.b.plan.do[1].task(t): specifies image: on the step but also specifies an image under config: - the image: on the step takes precedence",
        "jobs: jobs.b.plan.do[1].task(t): specifies `hermetic:` only works against worker containerd runtime",
      ],
    });
  });

  test("28.1: attempts must be greater than 0, a timeout must be a Go duration, in hooks and nested steps too", () => {
    const config = base();
    config.jobs[1].plan.push({ do: [{ in_parallel: [{ get: "src", resource: "src", attempts: 0 }] }] }, { try: { load_var: "v", timeout: "10 minutes" } });
    config.jobs[1].on_failure = { set_pipeline: "self" };
    expect(check(config).errors).toEqual([
      "jobs: jobs.b.plan.do[1].do[0].in_parallel.steps[0].get(src): repeated name",
      "jobs: jobs.b.plan.do[1].do[0].in_parallel.steps[0].attempts: must be greater than 0",
      "jobs: jobs.b.plan.do[2].try.load_var(v): no file specified",
      "jobs: jobs.b.plan.do[2].try.timeout: invalid duration '10 minutes'",
      "jobs: jobs.b.plan.on_failure.set_pipeline(self): no file specified",
    ]);
  });

  test("28.1: across needs vars, distinct ones, and a positive max_in_flight", () => {
    const config = base();
    config.jobs[1].plan.push({ across: [], task: "t", file: "t.yml" }, { across: [{ var: "x", values: [1] }, { var: "x", values: [2], max_in_flight: 0 }], task: "T((.:x))", file: "t.yml" });
    expect(check(config)).toEqual({
      errors: [
        "jobs: jobs.b.plan.do[1].across: no vars specified",
        "jobs: jobs.b.plan.do[2].across[1]: repeated var name",
        "jobs: jobs.b.plan.do[2].across[1].max_in_flight: must be greater than 0",
      ],
      // The task's name right under across is not checked as an identifier.
      warnings: [],
    });
  });

  test("28.1: passed constraints in a cycle", () => {
    const config = base();
    config.jobs[0].plan[0].passed = ["b"];
    expect(check(config).errors).toEqual(["jobs: pipeline contains a cycle that starts at Job 'a'"]);
  });

  test("28.1: groups: duplicates, a glob matching no job, an unknown resource, a job in no group", () => {
    const config = base();
    config.groups = [
      { name: "g", jobs: ["a", "zz*"], resources: ["nope"] },
      { name: "g", jobs: [] },
    ];
    expect(check(config).errors).toEqual([
      "groups: no jobs match 'zz*' for group 'g'",
      "groups: group 'g' has unknown resource 'nope'",
      "groups: group 'g' appears 2 times. Duplicate names are not allowed.",
      "groups: job 'b' belongs to no group",
    ]);
  });

  test("28.1: build log retention: both forms, negative values, a minimum above the builds kept", () => {
    const config = base();
    config.jobs[0].build_logs_to_retain = 3;
    config.jobs[0].build_log_retention = { builds: 2 };
    config.jobs[1].build_log_retention = { builds: 2, days: -1, minimum_succeeded_builds: 5 };
    expect(check(config)).toEqual({
      errors: [
        "jobs: jobs.a can't use both build_log_retention and build_logs_to_retain",
        "jobs: jobs.b has negative build_log_retention.days: -1",
        "jobs: jobs.b has build_log_retention.minimum_succeeded_builds (5) greater than build_log_retention.builds (2)",
      ],
      warnings: ["jobs: jobs.a: build_logs_to_retain is deprecated; use build_log_retention"],
    });
  });

  test("28.1: var_sources of an unknown type, duplicated; a display image that is not http(s) or relative", () => {
    const config = base();
    config.var_sources = [{ name: "v", type: "vault", config: {} }, { name: "v", type: "dummy", config: {} }, { name: "w", type: "keepass" }];
    config.display = { background_image: "ftp://example.invalid/bg.png" };
    expect(check(config).errors).toEqual([
      "variable sources: duplicate var_source name: v",
      "variable sources: unknown credential manager type: keepass",
      "display config: background_image scheme must be either http, https or relative",
    ]);
  });

  test("28.1: resource types need a name and a type, unique", () => {
    const config = base();
    config.resource_types = [{ name: "rt", type: "registry-image" }, { name: "rt", type: "registry-image" }, { name: "nt" }];
    expect(check(config).errors).toEqual(["resource types: resource_types[0] and resource_types[1] have the same name ('rt')", "resource types: resource_types.nt has no type"]);
  });

  test("28.1: errors are printed as Concourse groups them", () => {
    const config = base();
    config.resources.push({ name: "unused", type: "time" });
    config.jobs[1].plan.push({ get: "lib" });
    expect(formatErrors(validatePipeline(config).errors)).toBe(
      "invalid resources:\n\tresource 'unused' is not used\ninvalid jobs:\n\tjobs.b.plan.do[1].get(lib): unknown resource 'lib'\n",
    );
  });

  test("28.1: the errors as a 400 answer lists them: one message per section", () => {
    const config = base();
    config.resources.push({ name: "unused", type: "time" });
    config.jobs[1].plan.push({ get: "lib" }, { get: "lib2" });
    expect(errorMessages(validatePipeline(config).errors)).toEqual([
      "invalid resources:\n\tresource 'unused' is not used\n",
      "invalid jobs:\n\tjobs.b.plan.do[1].get(lib): unknown resource 'lib'\n\tjobs.b.plan.do[2].get(lib2): unknown resource 'lib2'\n",
    ]);
  });

  test("28.1: configs of the wrong shape are errors, never exceptions", () => {
    const odd: unknown[] = [null, 3, [], { jobs: "x" }, { jobs: [null, 1, { name: 2, plan: "x" }] }, { jobs: [{ name: "a", plan: [null, [], 1, { in_parallel: { steps: "x" } }, { across: "x", do: 1 }, { try: null }, { task: "t", config: [] }] }] }];
    for (const config of odd) expect(() => validatePipeline(config)).not.toThrow();
    expect(check({ jobs: [{ name: "a", plan: "x" }] }).errors).toEqual(["config: jobs.a.plan: must be a list of steps"]);
    expect(check(3).errors).toEqual(["config: the pipeline must be a map of top-level keys (jobs, resources, ...)"]);
  });

  test("28.1: YAML with a key set twice is refused before validation", () => {
    const parsed = parsePipeline("resources:\n  - name: src\n    type: git\n    type: time\njobs: []\n");
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.error.map((line) => line.replace(/ at line.*? \(/, " ("))).toEqual(["Map keys must be unique (a key set twice in one map; Concourse refuses it)"]);
  });
});
