import { expect, onTestFinished, test } from "vitest";
import { FakeConcourse } from "../../packages/concourse/src/test-support/fake-concourse.js";
import { testCacheServer } from "./test-support/cache-server.js";
import { RBUILD, testWorkspace } from "./test-support/workspace.js";

const TIMEOUT = 180_000;
// An npm workspace of two packages, its Buildfile the README's three lines: loading it reads the root
// package.json, every package's package.json and the lockfile, which are no task's declared inputs.
const manifest = (name: string, deps: Record<string, string> = {}): string =>
  JSON.stringify({ name, version: "1.0.0", dependencies: deps, scripts: { build: "mkdir -p dist && cp src/index.js dist/index.js && echo built" } });
const FILES = {
  "package.json": JSON.stringify({ name: "mono", private: true, workspaces: ["packages/*"] }),
  "package-lock.json": JSON.stringify({
    name: "mono",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: "mono", workspaces: ["packages/*"] },
      "node_modules/@nu/app": { resolved: "packages/app", link: true },
      "node_modules/@nu/util": { resolved: "packages/util", link: true },
      "packages/app": { name: "@nu/app", version: "1.0.0", dependencies: { "@nu/util": "1.0.0" } },
      "packages/util": { name: "@nu/util", version: "1.0.0" },
    },
  }),
  "Buildfile.ts": `import { scripts, task } from "rbuild";\nexport const build = task({ name: "build", deps: scripts("build", { deps: ["^build"], outputs: ["dist/**"] }) });\n`,
  "packages/util/package.json": manifest("@nu/util"),
  "packages/util/src/index.js": "module.exports = 'util';\n",
  "packages/app/package.json": manifest("@nu/app", { "@nu/util": "1.0.0" }),
  "packages/app/src/index.js": "module.exports = 'app';\n",
};

// npm run's banner, then the script's line, under the task's name (npm writes them to stdout).
const npmLines = (name: string): string =>
  [``, `> @nu/${name}@1.0.0 build`, `> mkdir -p dist && cp src/index.js dist/index.js && echo built`, ``, `built`].map((line) => `[@nu/${name}#build] ${line}\n`).join("");

test("28.3: --executor concourse builds a scripts() workspace: the one-off builds get the manifests and the lockfile the Buildfile reads", { timeout: TIMEOUT }, async () => {
  const server = await testCacheServer("rbuild-cexec-ws-");
  const fake = await FakeConcourse.start({ users: [{ username: "main", password: "main-pass-7", teams: { main: ["owner"] } }] });
  onTestFinished(() => fake.close());
  const ws = testWorkspace(FILES);
  const args = ["build", "--executor", "concourse", "--target", fake.url, "--team", "main", "--image", "registry.example/rbuild:1", "--remote", server.url, "--output", "plain", "-j", "1"];
  const result = await ws.run(args, { env: { CONCOURSE_USERNAME: "main", CONCOURSE_PASSWORD: "main-pass-7", RBUILD_BIN: RBUILD } });
  const tidy = (text: string): string => text.replace(/one-off build \d+/g, "one-off build <n>").replace(/\/builds\/\d+/g, "/builds/<n>");
  expect({ exitCode: result.exitCode, stdout: tidy(result.stdout), stderr: tidy(result.stderr) }).toEqual({
    exitCode: 0,
    stdout: ["util", "app"].map((name) => `> @nu/${name}#build\n${npmLines(name)}✓ @nu/${name}#build (<t>)\n`).join(""),
    stderr:
      `rbuild: task "@nu/util#build" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n` +
      `rbuild: task "@nu/app#build" runs as one-off build <n> on Concourse: ${fake.url}/builds/<n>\n` +
      "rbuild: ok: 2 ran, 0 cached in <t>\n",
  });
  expect([ws.read("packages/util/dist/index.js"), ws.read("packages/app/dist/index.js")]).toEqual(["module.exports = 'util';\n", "module.exports = 'app';\n"]);
});
