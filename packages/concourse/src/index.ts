// @rbuild/concourse: rbuild and Concourse CI. src/render/ and src/validate/ turn a build graph into a
// pipeline and check pipelines against Concourse's validation rules; src/client/ is the REST client;
// src/test-support/ holds the test double (not exported here).
export {};
