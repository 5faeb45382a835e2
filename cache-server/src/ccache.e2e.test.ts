/**
 * The real ccache (Debian's, installed by .ci/run) against the real server on
 * loopback, through the Bazel HTTP layout: one C file compiled in two
 * directories, each with a local cache of its own, so the second compile can
 * only hit through the server. ccache sends only GET/PUT <prefix>/ac/<64 hex>
 * with opaque bodies (../../shared/reference/remote-cache-protocols.md §7).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { serverPerTest } from "./test-support/server-per-test.js";

const each = serverPerTest("rbuild-ccache-");

const SOURCE = '#include <stdio.h>\n\nint main(void) {\n  puts("hello from ccache");\n  return 0;\n}\n';

/** Statistics whose values depend on the machine or the clock, left out of the comparison. */
const VARYING = new Set(["stats_updated_timestamp", "stats_zeroed_timestamp", "cache_size_kibibyte", "files_in_cache"]);

async function requireCcache(): Promise<void> {
  const found = await execa("ccache", ["--version"], { reject: false });
  if (found.exitCode !== 0) {
    throw new Error("ccache is not installed: install it (Debian: apt-get install ccache; .ci/run does) to run the ccache compatibility test");
  }
}

/** Compiles hello.c in `name`/ with its own ccache directory and config; returns the non-zero statistics. */
async function compile(root: string, name: string, remote: string): Promise<Record<string, number>> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "hello.c"), SOURCE);
  const config = join(root, `${name}.ccache.conf`);
  // base_dir makes paths below it relative, so the two directories share keys (as two checkouts would).
  writeFileSync(config, `remote_storage = ${remote}\nbase_dir = ${root}\n`);
  const env = { CCACHE_DIR: join(root, `${name}.ccache`), CCACHE_CONFIGPATH: config };
  const built = await execa("ccache", ["cc", "-c", "hello.c", "-o", "hello.o"], { cwd: dir, env, reject: false, all: true });
  expect([built.exitCode, built.all]).toEqual([0, ""]);
  const stats = await execa("ccache", ["--print-stats"], { cwd: dir, env });
  const nonZero: Record<string, number> = {};
  for (const line of stats.stdout.split("\n")) {
    const [key, value] = line.split("\t");
    if (key !== undefined && value !== undefined && value !== "0" && !VARYING.has(key)) nonZero[key] = Number(value);
  }
  return nonZero;
}

describe("ccache against the server (Bazel HTTP layout)", () => {
  test("25.5: ccache compiles one C file in two directories; the second is a remote hit, with no storage error", async () => {
    await requireCcache();
    const server = await each.start({ tokens: new Map([["ccache-token", "write"]]) });
    const root = join(each.dir, "work");
    const remote = `${server.url}/some/prefix|layout=bazel|bearer-token=ccache-token`;

    expect(await compile(root, "first", remote)).toEqual({
      cache_miss: 1,
      direct_cache_miss: 1,
      preprocessed_cache_miss: 1,
      local_storage_miss: 1,
      local_storage_read_miss: 2,
      local_storage_write: 2,
      remote_storage_miss: 1,
      remote_storage_read_miss: 2,
      remote_storage_write: 2,
    });
    expect(await compile(root, "second", remote)).toEqual({
      direct_cache_hit: 1,
      local_storage_miss: 1,
      local_storage_read_miss: 2,
      local_storage_write: 2,
      remote_storage_hit: 1,
      remote_storage_read_hit: 2,
    });
    expect(readFileSync(join(root, "second", "hello.o"))).toEqual(readFileSync(join(root, "first", "hello.o")));

    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer ccache-token" } })).text();
    expect(metrics.split("\n").filter((line) => line.startsWith("rbuild_cache_requests_total"))).toEqual([
      'rbuild_cache_requests_total{protocol="bazel",method="GET",route="bazel-ac",code="200"} 2',
      'rbuild_cache_requests_total{protocol="bazel",method="GET",route="bazel-ac",code="404"} 2',
      'rbuild_cache_requests_total{protocol="bazel",method="PUT",route="bazel-ac",code="200"} 2',
    ]);
  });

  test("25.5: with a read-only token ccache still compiles, counts a remote storage error, and nothing is stored", async () => {
    await requireCcache();
    const server = await each.start({ tokens: new Map([["reader", "read"]]) });
    const stats = await compile(join(each.dir, "work"), "only", `${server.url}/some/prefix|layout=bazel|bearer-token=reader`);
    // ccache gives up on the remote after the refused write (one error) and keeps its local result.
    expect(stats).toEqual({
      cache_miss: 1,
      direct_cache_miss: 1,
      preprocessed_cache_miss: 1,
      local_storage_miss: 1,
      local_storage_read_miss: 2,
      local_storage_write: 2,
      remote_storage_error: 1,
      remote_storage_miss: 1,
      remote_storage_read_miss: 2,
    });
    expect(server.store.totalBytes).toBe(0);
  });
});
