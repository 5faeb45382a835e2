/**
 * The commands the rbuild daemon answers besides builds: `rbuild history`,
 * `errors` and `show`, which only read the index. Answered in the daemon they
 * cost the client no Node start (most of their time when run by rbuild.js:
 * the queries themselves take a millisecond). Each is the very command the
 * Node path runs (main.ts), given the client's streams, directory and
 * environment instead of the process's, so the bytes, the exit status and
 * `--json` are the same whichever answers.
 */
import { unreachable } from "@rbuild/core";
import type { Args } from "./args.js";
import { errorsCommand } from "./errors-command.js";
import type { QueryIO } from "./history-access.js";
import { historyCommand } from "./history-command.js";
import { showCommand } from "./show-command.js";

export type QueryCommand = "history" | "errors" | "show";

/** Whether the daemon answers `command` itself (it reads the history only). */
export function isQuery(command: Args["command"]): command is QueryCommand {
  return command === "history" || command === "errors" || command === "show";
}

/** Runs the query `args` asks for, writing to `io`; resolves to its exit status. */
export function runQuery(args: Args & { command: QueryCommand }, io: QueryIO): Promise<number> {
  switch (args.command) {
    case "history":
      return historyCommand(args, io);
    case "errors":
      return errorsCommand(args, io);
    case "show":
      return showCommand(args, io);
    default:
      return unreachable(args.command);
  }
}
