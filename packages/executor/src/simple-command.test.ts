import { describe, expect, it } from "vitest";
import { simplePipeline } from "./simple-command.js";

describe("simplePipeline", () => {
  it("reads words, pipes and file redirections as sh does", () => {
    expect(simplePipeline("tsc -p tsconfig.json")).toEqual([{ argv: ["tsc", "-p", "tsconfig.json"] }]);
    expect(simplePipeline("  cat a/b.txt c.txt\t| md5sum > out/x.txt ")).toEqual([
      { argv: ["cat", "a/b.txt", "c.txt"] },
      { argv: ["md5sum"], stdout: { path: "out/x.txt", append: false } },
    ]);
    expect(simplePipeline("tr a-z A-Z <in.txt >>log|wc -c")).toEqual([
      { argv: ["tr", "a-z", "A-Z"], stdin: "in.txt", stdout: { path: "log", append: true } },
      { argv: ["wc", "-c"] },
    ]);
    // A redirection may come first, and an `=` after the command's name is an argument.
    expect(simplePipeline("> out.txt esbuild --outfile=x.js --define:A=1")).toEqual([
      { argv: ["esbuild", "--outfile=x.js", "--define:A=1"], stdout: { path: "out.txt", append: false } },
    ]);
    expect(simplePipeline("./node_modules/.bin/tool @scope/pkg,1:2%3+4")).toEqual([{ argv: ["./node_modules/.bin/tool", "@scope/pkg,1:2%3+4"] }]);
  });

  it.each([
    ["", "nothing to run"],
    ["   ", "nothing to run"],
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
    ["cmd 2>err.txt", "a file descriptor number"],
    ["cmd > out 2>&1", "a duplication"],
    ["cmd >& out", "a duplication"],
    ["cmd >| out", "a clobbering redirection"],
    ["cmd <<EOF", "a here-document"],
    ["cmd <> file", "a read-write redirection"],
    ["cmd |& other", "a stderr pipe"],
    ["cmd > a > b", "two redirections of one stream"],
    ["cmd > out < in", "stdout redirected before stdin"],
    ["cmd >", "a redirection without a file"],
    ["cmd > | x", "a redirection without a file"],
    ["| cmd", "an empty command"],
    ["cmd |", "an empty command"],
    ["cmd | | x", "an empty command"],
    ["> out", "no command at all"],
    ["NODE_ENV=production node build.js", "an assignment"],
    ["cd sub", "a builtin"],
    ["echo hi > out", "a builtin"],
    ["true", "a builtin"],
    ["exit 3", "a builtin"],
    ["cat x | read y", "a builtin in a pipeline"],
    ["if", "a keyword"],
    ["time make", "a keyword of bash"],
    ["! make", "negation"],
    ["cat # comment", "a comment"],
    ["[ -f x ]", "brackets"],
    ["cat naïve.txt", "a character outside the whitelist"],
  ])("leaves %j to the shell (%s)", (command) => {
    expect(simplePipeline(command)).toBeUndefined();
  });
});
