/**
 * Sandboxed and container tasks started through sandbox helpers (issue
 * 27.5), from the built CLI: what they must not see or leave, and what must
 * work as it did when bwrap made every namespace.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { busyboxRootfs, tarOf, writeOciLayout } from "../../test-support/oci-image.js";
import { testWorkspace } from "./test-support/workspace.js";

const HEADER = `import { task } from "rbuild";\n`;

/** Binds a fixed port, says so, waits for gate/go, then connects to itself and closes the accepted end first (TIME_WAIT). */
const SERVER = `import os, socket, time
s = socket.socket()
s.bind(("127.0.0.1", 8765))
s.listen()
print("bound", flush=True)
while not os.path.exists("gate/go"):
    time.sleep(0.05)
c = socket.create_connection(("127.0.0.1", 8765))
a, _ = s.accept()
a.close()
c.close()
print("served")
`;

/** How many of this workspace's server.py processes listen on port 8765, each in its own network. */
function listening(root: string): number {
  let count = 0;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const [program, script] = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!/python[\d.]*$/.test(program ?? "") || script !== "server.py" || readlinkSync(`/proc/${pid}/cwd`) !== root) continue;
      // 127.0.0.1:8765 in state 0A (LISTEN).
      if (/: 0100007F:223D 00000000:0000 0A /.test(readFileSync(`/proc/${pid}/net/tcp`, "utf8"))) count++;
    } catch {
      // Gone.
    }
  }
  return count;
}

test("27.5: tasks at -j 2 that bind the same fixed port at the same time both succeed, and so do the next two through the same helpers", async () => {
  const tasks = ["a", "b", "c", "d"].map((name) => `task({ name: "${name}", runner: "sandbox", inputs: ["server.py", "gate/**"], run: "python3 server.py" });\n`);
  const ws = testWorkspace({ "Buildfile.ts": HEADER + tasks.join(""), "server.py": SERVER, "gate/.keep": "" });
  const build = ws.start(["a", "b", "c", "d", "-j", "2"]);
  // The first two hold the port at once before either goes on (rbuild shows one task's output at a time: seen from here).
  while (listening(ws.root) < 2) await new Promise((resolve) => setTimeout(resolve, 50));
  writeFileSync(join(ws.root, "gate/go"), "");
  const result = await build;
  const lines = String(result.stdout)
    .split("\n")
    .filter((line) => line.startsWith("["))
    .sort();
  expect([result.exitCode, lines, String(result.stderr).replace(/ in \S+\n$/, "\n")]).toEqual([
    0,
    ["[a] bound", "[a] served", "[b] bound", "[b] served", "[c] bound", "[c] served", "[d] bound", "[d] served"],
    "rbuild: ok: 4 ran, 0 cached\n",
  ]);
}, 120_000);

test("27.5: a container task through a sandbox helper has a sandbox's /dev, read-only, no host network, and its outputs", async () => {
  const server = createServer((socket) => socket.end("host\n")).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const probe = `mkdir -p out && ls /dev > out/dev.txt && (nc 127.0.0.1 ${port} </dev/null && echo reached || echo refused) > out/net.txt 2>/dev/null; touch /dev/leak 2>/dev/null; echo $? > out/dev-write.txt; ls /dev/shm | wc -l > out/shm.txt`;
    const ws = testWorkspace({
      "Buildfile.ts":
        HEADER +
        `const first = task({ name: "first", outputs: ["out/**"], runner: { image: "images/busybox" }, run: ${JSON.stringify(probe)} });\n` +
        `task({ name: "second", deps: [first], outputs: ["again/**"], runner: { image: "images/busybox" }, run: "mkdir -p again && ls /dev > again/dev.txt" });\n`,
    });
    const rootfs = busyboxRootfs(mkdtempSync(join(tmpdir(), "rbuild-rootfs-")));
    writeOciLayout(join(ws.root, "images/busybox"), [tarOf(rootfs)]);
    rmSync(rootfs, { recursive: true, force: true });
    expect(await ws.run(["second"])).toEqual({ exitCode: 0, stdout: "> first\n✓ first (<t>)\n> second\n✓ second (<t>)\n", stderr: "rbuild: ok: 2 ran, 0 cached in <t>\n" });
    const dev = ["core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero", ""].join("\n");
    expect([ws.read("out/dev.txt"), ws.read("out/net.txt"), ws.read("out/dev-write.txt"), ws.read("out/shm.txt").trim(), ws.read("again/dev.txt")]).toEqual([dev, "refused\n", "1\n", "0", dev]);
  } finally {
    server.close();
  }
}, 120_000);
