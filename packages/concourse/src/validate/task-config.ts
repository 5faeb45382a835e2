/**
 * An inline task config (reference §1.5, atc/task.go): `platform` is required, inputs and outputs need a
 * name, and since Concourse v8.1 unknown keys are errors. `run` and `image_resource` are optional (v8).
 */
import { goQuoted, isMap, listOf, text } from "./values.js";

const KNOWN = new Set(["platform", "image_resource", "rootfs_uri", "container_limits", "params", "run", "inputs", "outputs", "caches"]);

export function validateTaskConfig(config: unknown, error: (message: string) => void): void {
  if (!isMap(config)) {
    error("missing 'platform'");
    return;
  }
  const unknown = Object.keys(config).filter((key) => !KNOWN.has(key)).sort();
  if (unknown.length > 0) error(`unknown fields ${goQuoted(unknown)}`);
  if (text(config.platform) === "") error("missing 'platform'");
  for (const [field, noun] of [["inputs", "input"], ["outputs", "output"]] as const) {
    listOf(config[field]).forEach((entry, i) => {
      if (!isMap(entry) || text(entry.name) === "") error(`${noun} in position ${i} is missing a name`);
    });
  }
  listOf(config.caches).forEach((entry, i) => {
    if (!isMap(entry) || text(entry.path) === "") error(`cache in position ${i} is missing a path`);
  });
}
