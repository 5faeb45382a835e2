import { expect, test } from "vitest";
import { interpolateVars } from "./vars.js";

test("28.2: -v vars are filled in where a var is a whole value or part of one; vars given no value stay for the credential manager", () => {
  const text = "resources:\n- name: src\n  type: git\n  source: {uri: ((uri)), branch: 'release/((branch))', token: ((token)), key: ((vault:key))}\njobs: [{name: a, plan: [{get: src}]}]\n";
  expect(interpolateVars(text, { uri: "https://git.example/x.git", branch: "1.2" })).toEqual({
    ok: true,
    value: JSON.stringify({
      resources: [{ name: "src", type: "git", source: { uri: "https://git.example/x.git", branch: "release/1.2", token: "((token))", key: "((vault:key))" } }],
      jobs: [{ name: "a", plan: [{ get: "src" }] }],
    }),
  });
  expect(interpolateVars(text, {})).toEqual({ ok: true, value: text });
  expect(interpolateVars("a: 1\na: 2\n", { x: "y" })).toMatchObject({ ok: false, error: expect.stringMatching(/^it is not YAML: Map keys must be unique/) });
});
