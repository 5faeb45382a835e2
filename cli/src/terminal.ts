/**
 * Where a command's output goes and what it runs with: the process's own
 * streams, environment and directory, or (for a build the rbuild daemon runs)
 * those of the client that asked for it.
 */
export interface TextOut {
  write(text: string): unknown;
}

export interface Terminal {
  readonly stdout: TextOut;
  readonly stderr: TextOut;
  /** Whether stdout is a terminal (colour, unless NO_COLOR). */
  readonly stdoutIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The terminal's size, when stdout is one whose size is known. */
  size?(): { columns: number; rows: number } | undefined;
  /** Calls `handler` after each resize of the terminal; returns how to stop listening. */
  onResize?(handler: () => void): () => void;
  /** Called with a handler for Ctrl-C and the like; returns how to stop listening. */
  onInterrupt(handler: () => void): () => void;
  /**
   * Takes work that must run after the command's output and exit status are
   * given (the daemon's: recording the build in the store); without it, that
   * work runs before.
   */
  readonly afterAnswer?: (work: () => void) => void;
}

/** This process's own terminal. */
export function processTerminal(): Terminal {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: process.stdout.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
    size: () => (process.stdout.isTTY === true && process.stdout.columns > 0 ? { columns: process.stdout.columns, rows: process.stdout.rows } : undefined),
    onResize(handler) {
      process.stdout.on("resize", handler);
      return () => void process.stdout.off("resize", handler);
    },
    onInterrupt(handler) {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
  };
}
