/**
 * Commands simple enough to run without a shell.
 *
 * `/bin/sh -c` costs a task an exec of the shell, its start-up and a fork per
 * program: for a one-line `cat ... | md5sum > out` that was about 1.2 ms of
 * CPU, more than the two programs themselves, and on a cold build of 1,000
 * such tasks a quarter of all the CPU the build used. GNU make has long run a
 * command with no shell metacharacters directly; rbuild goes one step further
 * and also takes pipes and plain file redirections, which it can set up exactly
 * as sh does.
 *
 * Only a string whose meaning cannot depend on a shell is accepted, and the
 * rule is a whitelist: words made of `A-Z a-z 0-9 _ . / , : @ % + = -`,
 * separated by spaces or tabs, `|` between commands, and `<`, `>` or `>>`
 * followed by a word. Anything else (quotes, `$`, backslashes, globs, `~`, `#`,
 * `;`, `&`, braces, parentheses, newlines, `2>`, `>&`, `||`, an assignment or
 * a shell keyword or builtin in a command's name) leaves the string to
 * `/bin/sh -c`, so the answer is "exactly what sh would do" or "not handled
 * here", never a different reading.
 *
 * What the process helper then does is what sh does with such a line: each
 * command in its own process in one process group, stdin of the first from
 * /dev/null, each command's stdout piped to the next, every stderr to the
 * task's, redirections opened in the task's directory (`>` creates or
 * truncates with mode 0666 less the umask, `>>` appends), the pipeline's
 * status that of its last command, PWD exported. As in dash (Debian's and
 * Ubuntu's /bin/sh): a program that is not found is status 127 and a file that
 * cannot be opened status 2, each with a line on stderr, and the rest of the
 * pipeline runs on; a command killed by signal N is status 128+N, with the
 * signal's name on stderr.
 */

/** One command of a pipeline: its program and arguments, and where its stdin and stdout go instead of the pipe. */
export interface PipelineStage {
  readonly argv: readonly string[];
  readonly stdin?: string;
  readonly stdout?: { readonly path: string; readonly append: boolean };
}

/** Reserved words and builtins of dash and bash: a command named so means something else outside a shell. */
const SHELL_NAMES = new Set(
  (
    "! { } [[ ]] case coproc do done elif else esac fi for function if in select then time until while " +
    ". : [ alias bg bind break builtin caller cd chdir command compgen complete compopt continue declare dirs " +
    "disown echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout " +
    "mapfile popd printf pushd pwd read readarray readonly return set shift shopt source suspend test times " +
    "trap true type typeset ulimit umask unalias unset wait"
  ).split(" "),
);

/** A word, matched where the scan stands (sticky). */
const WORD = /[A-Za-z0-9_./,:@%+=-]+/y;

type Token = { kind: "word"; text: string } | { kind: "|" | "<" | ">" | ">>" };

/** The tokens of `command`, or undefined as soon as a character could mean something to a shell. */
function tokens(command: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < command.length) {
    const c = command[i]!;
    if (c === " " || c === "\t") {
      i++;
    } else if (c === "|" || c === "<" || c === ">") {
      const next = command[i + 1];
      // `||`, `|&`, `<<`, `<&`, `<>`, `>&`, `>|` are other operators.
      if (next === "|" || next === "&" || (c === "<" && (next === "<" || next === ">"))) return undefined;
      if (c === ">" && next === ">") {
        if (command[i + 2] === "&" || command[i + 2] === "|" || command[i + 2] === ">") return undefined;
        out.push({ kind: ">>" });
        i += 2;
      } else {
        out.push({ kind: c });
        i++;
      }
    } else {
      WORD.lastIndex = i;
      const text = WORD.exec(command)?.[0];
      if (text === undefined) return undefined;
      i += text.length;
      // `2>file`: a number right before a redirection names a file descriptor.
      if ((command[i] === "<" || command[i] === ">") && /^[0-9]+$/.test(text)) return undefined;
      out.push({ kind: "word", text });
    }
  }
  return out;
}

/**
 * The pipeline `command` stands for when a shell is not needed to read it,
 * else undefined (run it with `/bin/sh -c`).
 */
export function simplePipeline(command: string): PipelineStage[] | undefined {
  const list = tokens(command);
  if (list === undefined || list.length === 0) return undefined;
  const stages: PipelineStage[] = [];
  let argv: string[] = [];
  let stdin: string | undefined;
  let stdout: { path: string; append: boolean } | undefined;
  const endStage = (): boolean => {
    const name = argv[0];
    if (name === undefined || name.includes("=") || SHELL_NAMES.has(name)) return false;
    stages.push({ argv, ...(stdin === undefined ? {} : { stdin }), ...(stdout === undefined ? {} : { stdout }) });
    argv = [];
    stdin = undefined;
    stdout = undefined;
    return true;
  };
  for (let i = 0; i < list.length; i++) {
    const token = list[i]!;
    if (token.kind === "word") {
      argv.push(token.text);
    } else if (token.kind === "|") {
      if (!endStage()) return undefined;
    } else {
      const target = list[++i];
      // Two redirections of one stream: sh opens (creates) both, which is not worth copying. And the
      // helper opens stdin first: sh, given `> out` first, creates `out` even when `< in` then fails.
      if (target?.kind !== "word" || (token.kind === "<" ? stdin : stdout) !== undefined || (token.kind === "<" && stdout !== undefined)) return undefined;
      if (token.kind === "<") stdin = target.text;
      else stdout = { path: target.text, append: token.kind === ">>" };
    }
  }
  return endStage() ? stages : undefined;
}
