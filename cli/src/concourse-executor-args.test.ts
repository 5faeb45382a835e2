import { expect, test } from "vitest";
import { parseCommandLine } from "./args.js";

const env = { CONCOURSE_USERNAME: "main", CONCOURSE_PASSWORD: "s3cret-pass" };
const FLAGS = ["--executor", "concourse", "--target", "https://ci.example", "--team", "main", "--image", "node:20", "--remote", "https://cache.example"];
const problem = (argv: string[], environment: Record<string, string> = env): unknown => {
  const parsed = parseCommandLine(argv, environment);
  return parsed.ok ? parsed.value.executor : parsed.error;
};
const usage = (message: string): unknown => ({ reason: "usage", message });

test("28.3: --executor concourse takes --target, --team, --image, the credentials from the environment or flags, and --remote", () => {
  expect(problem(["build", ...FLAGS])).toEqual({ url: "https://ci.example", team: "main", image: "node:20", username: "main", password: "s3cret-pass" });
  expect(problem(["build", ...FLAGS, "--username", "ci", "--password", "other"], {})).toEqual({ url: "https://ci.example", team: "main", image: "node:20", username: "ci", password: "other" });
  expect(problem(["build"])).toBeUndefined();
  expect(problem(["build", "--executor", "local"])).toBeUndefined();
});

test("28.3: --executor concourse refuses what it cannot work with, saying why, never echoing a password", () => {
  const without = (flag: string): string[] => {
    const at = FLAGS.indexOf(flag);
    return [...FLAGS.slice(0, at), ...FLAGS.slice(at + 2)];
  };
  expect(problem(["build", ...without("--remote")])).toEqual(
    usage("--executor concourse needs --remote URL (or RBUILD_REMOTE_CACHE), a remote cache that this machine and the Concourse workers share: the one-off builds take what they need from it and leave their results in it, which is how this build gets their outputs back."),
  );
  expect(problem(["build", ...without("--remote"), "--remote", "file:///tmp/cache"])).toEqual(
    usage("--executor concourse needs a remote cache the Concourse workers can reach over the network; file:///tmp/cache is a directory on this machine."),
  );
  expect(problem(["build", ...without("--target")])).toEqual(usage("--executor concourse needs --target URL: the Concourse's address, e.g. --target https://ci.example."));
  expect(problem(["build", ...without("--team")])).toEqual(usage("--executor concourse needs --team T: the Concourse team the builds run in (often `main`)."));
  expect(problem(["build", ...without("--image")])).toEqual(
    usage("--executor concourse needs --image REF: the container image the one-off builds run in, with rbuild installed (e.g. --image registry.example/acme/rbuild:1)."),
  );
  expect(problem(["build", ...FLAGS], { CONCOURSE_USERNAME: "main" })).toEqual(
    usage('--executor concourse needs the password of "main": set CONCOURSE_PASSWORD (or pass --password, which other users can see in ps).'),
  );
  expect(problem(["build", ...FLAGS], {})).toEqual(usage("--executor concourse needs a user to log in as: set CONCOURSE_USERNAME (or pass --username)."));
  expect(problem(["build", ...FLAGS, "-n"])).toEqual(usage("--executor concourse with -n/--dry-run is not supported: `rbuild <task> -n` shows what would run and why, wherever it runs."));
  expect(problem(["watch", "build", ...FLAGS])).toEqual(usage("--executor concourse goes with running tasks, e.g. `rbuild build --executor concourse ...`, not with `rbuild watch`."));
  expect(problem(["build", "--executor", "k8s"])).toEqual(usage('--executor must be "concourse" or "local", got "k8s".'));
  expect(problem(["build", "--team", "main"])).toEqual(
    usage("--team goes with --executor concourse, e.g. `rbuild build --executor concourse --target https://ci.example --team main --image REF --remote URL`."),
  );
  expect(JSON.stringify(problem(["build", ...without("--image"), "--image", "not an image", "--password", "s3cret-pass"]))).not.toContain("s3cret-pass");
});
