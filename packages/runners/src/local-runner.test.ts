import { runnerConformance } from "../../../test-support/runner-conformance.js";
import { LocalRunner } from "./local-runner.js";

runnerConformance("local, through the process helper", () => new LocalRunner());
runnerConformance("local, forked from Node", () => new LocalRunner({ spawn: "direct" }));
