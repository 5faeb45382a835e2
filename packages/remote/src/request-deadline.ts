/**
 * A deadline for a whole exchange with a remote, and the build's interrupt.
 * undici's timeouts are between events (connect, headers, one body chunk to
 * the next): a remote that drips a byte every few seconds never trips them,
 * and held a build for ever, deaf to Ctrl-C, since nothing aborted the read.
 * So each exchange gets a deadline derived from the bytes it may move (a
 * throughput floor), and is aborted at it, or when the build is interrupted.
 */
import { RemoteError } from "./remote-cache.js";

/**
 * The slowest transfer waited for: 1 MiB/s (8 Mbit/s). A remote slower than
 * that is cut and the exchange is a miss: the task runs instead, which is
 * likely quicker than such a download.
 */
export const MIN_BYTES_PER_SECOND = 1024 * 1024;

/** The time allowed for an exchange that moves up to `bytes`: `baseMs` (connect, first answer), plus the floor's time. */
export function deadlineFor(baseMs: number, bytes: number): number {
  return baseMs + Math.ceil((bytes / MIN_BYTES_PER_SECOND) * 1000);
}

/**
 * Runs `exchange` with a signal that aborts at `ms`, or when `interrupt` does.
 * Whatever `exchange` throws once it is aborted is reported as the abort: a
 * "timeout" RemoteError naming `what` and the deadline, or an "interrupted" one.
 */
export async function withDeadline<T>(what: string, ms: number, interrupt: AbortSignal | undefined, exchange: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (interrupt?.aborted === true) throw new RemoteError("interrupted", `${what}: the build was interrupted`);
  const controller = new AbortController();
  let cause: "deadline" | "interrupt" | undefined;
  const onInterrupt = (): void => {
    cause ??= "interrupt";
    controller.abort();
  };
  interrupt?.addEventListener("abort", onInterrupt, { once: true });
  const timer = setTimeout(() => {
    cause ??= "deadline";
    controller.abort();
  }, ms);
  try {
    return await exchange(controller.signal);
  } catch (error) {
    if (cause === "interrupt") throw new RemoteError("interrupted", `${what}: the build was interrupted`);
    if (cause === "deadline") {
      throw new RemoteError("timeout", `${what}: not done within ${ms / 1000} s (a remote slower than ${MIN_BYTES_PER_SECOND / 1024 / 1024} MiB/s is not waited for)`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
    interrupt?.removeEventListener("abort", onInterrupt);
  }
}
