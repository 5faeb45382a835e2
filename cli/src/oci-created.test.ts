/** The `created` field of an exported image's config (oci-layout.ts; issue 27.4 leftovers, item 2). */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { writeOciLayout, type LayoutBase } from "./oci-layout.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rbuild-oci-created-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The config the layout written at `dir/name` holds. */
function writtenConfig(name: string, base?: LayoutBase): Record<string, unknown> {
  const layout = join(dir, name);
  const manifest = writeOciLayout(layout, [{ source: Buffer.alloc(1024), createdBy: "rbuild task t" }], "t", base);
  const blob = (digest: string): Buffer => readFileSync(join(layout, "blobs", "sha256", digest.slice("sha256:".length)));
  const { config } = JSON.parse(blob(manifest.digest).toString("utf8")) as { config: { digest: string } };
  return JSON.parse(blob(config.digest).toString("utf8")) as Record<string, unknown>;
}

const baseLayer = { source: Buffer.alloc(2048), createdBy: "base image layer 1" };

test("27.4: an image with no base, or a base config without one, is created at the Unix epoch; a base's own `created` is kept", () => {
  expect(writtenConfig("none").created).toBe("1970-01-01T00:00:00Z");
  expect(writtenConfig("rootfs", { layers: [baseLayer] }).created).toBe("1970-01-01T00:00:00Z");
  const config = { os: "linux", architecture: "amd64", config: { Env: ["PATH=/bin"] } };
  expect(writtenConfig("undated", { layers: [baseLayer], config }).created).toBe("1970-01-01T00:00:00Z");
  expect(writtenConfig("not-a-date", { layers: [baseLayer], config: { ...config, created: 42 } }).created).toBe("1970-01-01T00:00:00Z");
  expect(writtenConfig("dated", { layers: [baseLayer], config: { ...config, created: "2024-05-01T12:30:00.123456789Z" } }).created).toBe("2024-05-01T12:30:00.123456789Z");
});

test("27.4: the same layers over the same base make byte-identical layouts, `created` and all", () => {
  const twice = ["a", "b"].map((name) => {
    const manifest = writeOciLayout(join(dir, name), [{ source: Buffer.alloc(1024), createdBy: "rbuild task t" }], "t");
    return [manifest.digest, readFileSync(join(dir, name, "index.json"), "utf8")];
  });
  expect(twice[0]).toEqual(twice[1]);
});
