// process_helper.py on its own: its protocol, byte for byte, with no ProcessHelper in between.
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { afterEach, beforeEach, expect, test } from "vitest";
import { HELPER_SCRIPT } from "./process-helper.js";

let root: string;
let helper: ChildProcessByStdio<Writable, Readable, Readable>;
let received: Buffer;
let stderr: string;
let exited: Promise<number | null>;

/** Starts the helper: `ulimit -n` of it, if given (through sh, which then becomes it). */
function startHelper(openFiles?: number): void {
  const python = ["/usr/bin/python3", "-I", "-S", HELPER_SCRIPT];
  const [file, ...args] = openFiles === undefined ? python : ["/bin/sh", "-c", `ulimit -n ${openFiles} && exec "$@"`, "sh", ...python];
  helper = spawn(file!, args, { stdio: ["pipe", "pipe", "pipe"] });
  received = Buffer.alloc(0);
  stderr = "";
  helper.stdout.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  helper.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  exited = new Promise((resolve) => helper.on("exit", (code) => resolve(code)));
}

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-helper-")));
  startHelper();
});

afterEach(async () => {
  helper.stdin.end();
  await exited;
  rmSync(root, { recursive: true, force: true });
});

/** A request to run `argv` in `cwd` with exactly `env`. */
function request(id: number, cwd: string, argv: readonly string[], env: Record<string, string> = { PATH: "/usr/bin:/bin" }, umask = "022"): string {
  return rawRequest(id, [cwd, umask, String(argv.length), ...argv, ...Object.entries(env).map(([name, value]) => `${name}=${value}`)]);
}

/** A request with exactly these payload fields, whatever they say. */
function rawRequest(id: number, fields: readonly string[]): string {
  const payload = fields.join("\0");
  return `R ${id} ${Buffer.byteLength(payload)}\n${payload}`;
}

/** The F frame that answers request `id` with `message`, as frames() shows it. */
function failed(id: number, message: string): string {
  return `F ${id} ${Buffer.byteLength(message)} ${JSON.stringify(message)}`;
}

/** What the helper has said until `done` holds of it (polled: the frames come when they come). */
async function until(done: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 1000 && !done(received.toString("latin1")); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return received.toString("latin1");
}

/** The frames in `text` with pids replaced, as lines: header, then a payload where one follows. */
function frames(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    const newline = rest.indexOf("\n");
    if (newline < 0) break; // A header still on its way.
    const header = rest.slice(0, newline).split(" ");
    rest = rest.slice(newline + 1);
    if (header[0] === "O" || header[0] === "E" || header[0] === "F") {
      const length = Number(header[2]);
      out.push(`${header.join(" ")} ${JSON.stringify(rest.slice(0, length))}`);
      rest = rest.slice(length);
    } else {
      out.push(header[0] === "S" ? `S ${header[1]} <pid>` : header.join(" "));
    }
  }
  return out;
}

test("says it is ready, runs a request, relays both streams and reports the exit code", async () => {
  helper.stdin.write(request(1, root, ["/bin/sh", "-c", "printf out; printf err >&2; exit 3"]));
  const text = await until((t) => t.includes("X 1 "));
  const said = frames(text);
  expect(said[0]).toBe("H");
  expect(said[1]).toBe("S 1 <pid>");
  expect(said.slice(2).sort()).toEqual(['E 1 3 "err"', 'O 1 3 "out"', "X 1 e 3"].sort());
  expect(said.at(-1)).toBe("X 1 e 3");
});

test("a task runs in its own process group, with stdin at end of file, the umask, cwd and exactly its environment", async () => {
  helper.stdin.write(request(7, root, ["/bin/sh", "-c", 'echo "$$ $(ps -o pgid= -p $$)"; cat; umask; pwd; env | sort'], { PATH: "/usr/bin:/bin", ONE: "1" }, "027"));
  const text = await until((t) => t.includes("X 7 "));
  const out = frames(text)
    .filter((frame) => frame.startsWith("O 7"))
    .map((frame) => JSON.parse(frame.slice(frame.indexOf('"'))) as string)
    .join("");
  const [group, ...rest] = out.split("\n");
  const [pid, pgid] = group!.trim().split(/\s+/);
  expect(pid).toBe(pgid);
  expect(rest.join("\n")).toBe(`0027\n${root}\nONE=1\nPATH=/usr/bin:/bin\nPWD=${root}\n`);
});

test("a task killed by a signal is reported by the signal's number", async () => {
  helper.stdin.write(request(2, root, ["/bin/sh", "-c", "kill -TERM $$"]));
  expect(frames(await until((t) => t.includes("X 2 "))).at(-1)).toBe("X 2 s 15");
});

test("what cannot start is an F frame with the reason, and the helper goes on", async () => {
  helper.stdin.write(request(3, join(root, "missing"), ["/bin/true"]));
  helper.stdin.write(request(4, root, ["rbuild-no-such-program"]));
  helper.stdin.write(request(5, root, ["/bin/true"]));
  const said = frames(await until((t) => t.includes("X 5 ")));
  expect(said).toContain(`F 3 ${Buffer.byteLength(`cannot change to ${root}/missing: No such file or directory`)} ${JSON.stringify(`cannot change to ${root}/missing: No such file or directory`)}`);
  expect(said).toContain('F 4 25 "No such file or directory"');
  expect(said.at(-1)).toBe("X 5 e 0");
});

test("a task has ended only when its pipes are closed: output of what it left running is its own", async () => {
  helper.stdin.write(request(6, root, ["/bin/sh", "-c", "(sleep 0.3; echo late) & echo early"]));
  const said = frames(await until((t) => t.includes("X 6 ")));
  expect(said.filter((frame) => frame.startsWith("O 6")).map((frame) => frame.slice(frame.indexOf('"')))).toEqual(['"early\\n"', '"late\\n"']);
  expect(said.at(-1)).toBe("X 6 e 0");
});

test("requests split across writes are read whole; many tasks run at once", async () => {
  const requests = Array.from({ length: 20 }, (_, i) => request(100 + i, root, ["/bin/sh", "-c", `echo task ${i}`])).join("");
  for (let at = 0; at < requests.length; at += 7) helper.stdin.write(requests.slice(at, at + 7));
  const said = frames(await until((t) => (t.match(/^X /gm) ?? []).length === 20));
  for (let i = 0; i < 20; i++) {
    expect(said).toContain(`O ${100 + i} ${`task ${i}\n`.length} ${JSON.stringify(`task ${i}\n`)}`);
    expect(said).toContain(`X ${100 + i} e 0`);
  }
});

test("20.hardening: a request it cannot carry out (no argv, an empty program, an empty variable name, a bad umask) fails that request alone, and it goes on", async () => {
  helper.stdin.write(rawRequest(1, [root, "022", "0", "PATH=/usr/bin:/bin"]));
  helper.stdin.write(request(2, root, [""]));
  helper.stdin.write(request(3, root, ["/bin/true"], { PATH: "/usr/bin:/bin", "": "x" }));
  helper.stdin.write(rawRequest(4, [root, "022", "1", "/bin/true", "=A=v"]));
  helper.stdin.write(request(5, root, ["/bin/true"], { PATH: "/usr/bin:/bin" }, "9x"));
  helper.stdin.write(request(6, root, ["/bin/true"]));
  const said = frames(await until((t) => t.includes("X 6 ")));
  const emptyName = 'its environment has a variable whose name is empty or starts with "=": remove it';
  expect(said).toEqual([
    "H",
    failed(1, "there is no program to run (the command is empty)"),
    failed(2, "there is no program to run (the command is empty)"),
    failed(3, emptyName),
    failed(4, emptyName),
    failed(5, "rbuild's process helper was sent a bad request: invalid literal for int() with base 8: '9x'"),
    "S 6 <pid>",
    "X 6 e 0",
  ]);
  expect(stderr).toBe("");
});

test("20.hardening: out of file descriptors, a request fails saying to raise ulimit -n, and it goes on once some are free", async () => {
  helper.stdin.end();
  await exited;
  startHelper(20);
  // Each running task holds two of the helper's descriptors (its stdout and stderr pipes).
  for (let id = 1; id <= 12; id++) helper.stdin.write(request(id, root, ["/bin/sleep", "60"]));
  const said = frames(await until((t) => frames(t).filter((frame) => /^[SF] /.test(frame)).length === 12));
  const started = said.filter((frame) => frame.startsWith("S "));
  const refused = said.filter((frame) => frame.startsWith("F "));
  expect(started.length).toBeGreaterThan(0);
  expect(refused).toEqual(refused.map((frame) => failed(Number(frame.split(" ")[1]), "too many open files: raise `ulimit -n` or lower -j")));
  expect(refused.length).toBeGreaterThan(0);
  // Stop the sleepers: their pipes close, and a new request runs.
  const pids = [...received.toString("latin1").matchAll(/^S \d+ (\d+) \d+$/gm)].map((match) => Number(match[1])); // S frames follow a newline.
  expect(pids.length).toBe(started.length);
  for (const pid of pids) process.kill(-pid, "SIGKILL");
  await until((t) => frames(t).filter((frame) => frame.startsWith("X ")).length === pids.length);
  helper.stdin.write(request(100, root, ["/bin/sh", "-c", "echo still here"]));
  expect(frames(await until((t) => t.includes("X 100 "))).slice(-3)).toEqual(["S 100 <pid>", 'O 100 11 "still here\\n"', "X 100 e 0"]);
  expect(stderr).toBe("");
});

test("a request it does not understand stops it with a message; end of input stops it quietly", async () => {
  helper.stdin.write("Q 1 2 3\n");
  expect(await exited).toBe(2);
  expect(stderr).toMatch(/rbuild process helper: bad request b'Q 1 2 3'/);
});

test("end of input: it exits with status 0", async () => {
  helper.stdin.end();
  expect(await exited).toBe(0);
});
