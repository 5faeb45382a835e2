import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { argvWithoutShell, plainWords } from "./simple-command.js";

describe("plainWords", () => {
  it("reads plain words as every shell does", () => {
    expect(plainWords("tsc -p tsconfig.json")).toEqual(["tsc", "-p", "tsconfig.json"]);
    expect(plainWords("  cat a/b.txt\tc.txt ")).toEqual(["cat", "a/b.txt", "c.txt"]);
    // An `=` after the command's name is an argument.
    expect(plainWords("esbuild --outfile=x.js --define:A=1")).toEqual(["esbuild", "--outfile=x.js", "--define:A=1"]);
    expect(plainWords("./node_modules/.bin/tool @scope/pkg,1:2%3+4")).toEqual(["./node_modules/.bin/tool", "@scope/pkg,1:2%3+4"]);
  });

  it.each([
    ["", "nothing to run"],
    ["   ", "nothing to run"],
    ["cat a | md5sum", "21.4: a pipe"],
    ["cat a b|md5sum > out", "21.4: a pipe and a redirection"],
    ["md5sum < in", "21.4: a redirection of stdin"],
    ["cat a > out", "21.4: a redirection of stdout"],
    ["cat a >> log", "21.4: an appending redirection"],
    ["> out esbuild", "21.4: a redirection first"],
    ["echo 'a b'", "quotes"],
    ['echo "$HOME"', "quotes and expansion"],
    ["echo $HOME", "expansion"],
    ["cp src/*.ts out", "a glob"],
    ["ls ~/x", "a tilde"],
    ["a \\\n b", "a backslash and newline"],
    ["make\nmake install", "a newline"],
    ["make; make install", "a list"],
    ["make && make install", "an and-list"],
    ["make || true", "an or-list"],
    ["sleep 1 &", "a background job"],
    ["(cd x && make)", "a subshell"],
    ["{ a; }", "a group"],
    ["cmd 2> err.txt", "a file descriptor number"],
    ["cmd > out 2>&1", "a duplication"],
    ["cmd <<EOF", "a here-document"],
    ["NODE_ENV=production node build.js", "an assignment"],
    ["cd sub", "a builtin"],
    ["true", "a builtin"],
    ["exit 3", "a builtin"],
    ["if", "a keyword"],
    ["time make", "a keyword of bash"],
    ["! make", "negation"],
    ["cat # comment", "a comment"],
    ["[ -f x ]", "brackets"],
    ["cat naïve.txt", "a character outside the whitelist"],
  ])("leaves %j to the shell (%s)", (command) => {
    expect(plainWords(command)).toBeUndefined();
  });
});

describe("argvWithoutShell", () => {
  let root: string;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-words-")));
    for (const dir of ["one", "two", "sub"]) mkdirSync(join(root, dir));
    writeFileSync(join(root, "two", "tool"), "#!/bin/sh\n", { mode: 0o755 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const path = (...dirs: string[]): { PATH: string } => ({ PATH: dirs.map((dir) => (dir === "" ? "" : join(root, dir))).join(":") });

  it("21.4: takes plain words whose program is on the task's PATH, relative names in the task's directory", () => {
    expect(argvWithoutShell("tool -x", root, path("one", "two"))).toEqual(["tool", "-x"]);
    writeFileSync(join(root, "sub", "here"), "#!/bin/sh\n", { mode: 0o755 });
    expect(argvWithoutShell("./here a", join(root, "sub"), path("one"))).toEqual(["./here", "a"]);
    expect(argvWithoutShell("sub/here", root, path("one"))).toEqual(["sub/here"]);
    // An empty PATH entry is the current directory, for sh as for execvp.
    expect(argvWithoutShell("here", join(root, "sub"), path("one", ""))).toEqual(["here"]);
    symlinkSync(join(root, "two", "tool"), join(root, "one", "linked"));
    expect(argvWithoutShell("linked", root, path("one"))).toEqual(["linked"]);
  });

  it("21.4: leaves to sh what it would not find or run, so sh says so itself", () => {
    expect(argvWithoutShell("rbuild-no-such-tool x", root, path("one", "two"))).toBeUndefined();
    expect(argvWithoutShell("tool", root, path("one"))).toBeUndefined();
    expect(argvWithoutShell("./tool", root, path("two"))).toBeUndefined();
    expect(argvWithoutShell("tool", root, {})).toBeUndefined();
    // A directory of that name is not the program; the first file is, executable or not (as dash finds it).
    mkdirSync(join(root, "one", "tool"));
    expect(argvWithoutShell("tool", root, path("one", "two"))).toEqual(["tool"]);
    rmSync(join(root, "one", "tool"), { recursive: true });
    writeFileSync(join(root, "one", "tool"), "#!/bin/sh\n", { mode: 0o644 });
    expect(argvWithoutShell("tool", root, path("one", "two"))).toBeUndefined();
    chmodSync(join(root, "one", "tool"), 0o755);
    expect(argvWithoutShell("tool", root, path("one", "two"))).toEqual(["tool"]);
    // A PATH entry that is a file, not a directory, is skipped.
    expect(argvWithoutShell("tool", root, { PATH: `${join(root, "two", "tool")}:${join(root, "two")}` })).toEqual(["tool"]);
    expect(argvWithoutShell("cat a | tool", root, path("two"))).toBeUndefined();
  });
});
