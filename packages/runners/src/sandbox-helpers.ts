/**
 * The process helpers that start sandboxed commands without a network
 * (process-helper.ts `sandbox`): each has made, once, the network namespace
 * and the /dev that bwrap would otherwise make for every command, the two
 * dearest parts of its start (bench/sandbox-profile.mjs).
 *
 * A running task holds one helper of its own from its start to its end, so
 * two tasks never share a network (a port one binds, the other could reach)
 * at the same time; a task that ends gives it back for the next. There are
 * as many as sandboxed tasks ever ran at once, each idle until needed.
 *
 * A task's processes end with it (bwrap's PID namespace), and its sockets
 * with them, but not what TCP keeps after a close: a connection in
 * TIME_WAIT for a minute, which would make the next task's bind of that
 * port fail (EADDRINUSE) and show it the last one's connections. A helper
 * whose network still holds a TCP socket after its task is not given back:
 * it is stopped, and its network goes with it.
 *
 * Its mount namespace is a copy of the host's when it started, and a mount
 * made on the host since is not in it (the host's mounts are private on
 * most systems, so none propagates): a workspace, input or tool on a file
 * system mounted later would be missing in the sandbox. An idle helper is
 * used again only while the host's mount table is what it was when the
 * helper started; else it is stopped and another started.
 *
 * When a sandbox helper cannot run here (no user namespaces for it, a python
 * without ctypes), none is started again: commands start as before, through
 * the runner's own helper, with bwrap making every namespace. When one is
 * lost, none starts for the rest of the build, as with the runner's own.
 */
import { readFileSync } from "node:fs";
import { HELPER_SCRIPT, ProcessHelper } from "./process-helper.js";

/**
 * Whether the network namespace of process `pid` holds a TCP socket (one it
 * cannot tell counts as one). First its counts, /proc/<pid>/net/sockstat and
 * sockstat6 (TCP sockets in use and in TIME_WAIT, per namespace: 20 µs);
 * only when they are not all 0, the socket tables, which the kernel makes by
 * walking every TCP socket of the host (3-4 ms here, more on a busy host)
 * and which are the word where the counts are the host's (older kernels
 * count TIME_WAIT for the whole host).
 */
export function holdsTcpSockets(pid: number): boolean {
  try {
    const counts = readFileSync(`/proc/${pid}/net/sockstat`, "utf8") + readFileSync(`/proc/${pid}/net/sockstat6`, "utf8");
    const tcp = /^TCP: inuse (\d+) orphan \d+ tw (\d+)/m.exec(counts);
    const tcp6 = /^TCP6: inuse (\d+)/m.exec(counts);
    if (tcp !== null && tcp6 !== null && tcp[1] === "0" && tcp[2] === "0" && tcp6[1] === "0") return false;
    // A header line, then a line for each socket.
    return ["tcp", "tcp6"].some((table) => readFileSync(`/proc/${pid}/net/${table}`, "utf8").trimEnd().includes("\n"));
  } catch {
    return true;
  }
}

/** This process's mount table (the host's, whose copy a helper started from), or "" when it cannot be read. */
function mountTable(): string {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return "";
  }
}

export class SandboxHelpers {
  readonly #script: string;
  /** Called with each helper started, to record it (running-groups.ts). */
  readonly #started: (helper: ProcessHelper) => void;
  readonly #idle: ProcessHelper[] = [];
  /** Every helper alive, with the mount table it started from. */
  readonly #all = new Map<ProcessHelper, string>();
  /** `on`; `off` for good (none can run here, or closed); `off-for-build`, until reset() (one was lost). */
  #state: "on" | "off" | "off-for-build" = "on";

  constructor(started: (helper: ProcessHelper) => void, script: string = HELPER_SCRIPT) {
    this.#started = started;
    this.#script = script;
  }

  /** A helper for one task, its own until release(); undefined when none is to be used. */
  acquire(): ProcessHelper | undefined {
    if (this.#state !== "on") return undefined;
    const mounts = this.#idle.length === 0 ? "" : mountTable();
    for (let helper = this.#idle.pop(); helper !== undefined; helper = this.#idle.pop()) {
      if (helper.dead) {
        this.#forget(helper);
        continue;
      }
      if (this.#all.get(helper) === mounts) return helper;
      // Its mounts are not the host's now (see above).
      helper.close();
      this.#forget(helper);
    }
    const table = mountTable();
    const helper = ProcessHelper.start(this.#script, { sandbox: true });
    if (helper === undefined) {
      this.#state = "off";
      return undefined;
    }
    this.#all.set(helper, table);
    this.#started(helper);
    return helper;
  }

  /** The task that held `helper` has ended. */
  release(helper: ProcessHelper): void {
    if (helper.unavailable) this.#state = "off";
    else if (helper.lost !== undefined && this.#state === "on") this.#state = "off-for-build";
    if (helper.dead) this.#forget(helper);
    else if (this.#state === "off") helper.close();
    else if (helper.pid === undefined || holdsTcpSockets(helper.pid)) {
      // Its network is not as new (see above): the next task gets another.
      helper.close();
      this.#forget(helper);
    } else this.#idle.push(helper);
  }

  /** A new build: helpers start again if one was lost in the last. */
  reset(): void {
    if (this.#state === "off-for-build") this.#state = "on";
  }

  /** The pids of the helpers alive, to record for a new build. */
  pids(): number[] {
    return [...this.#all.keys()].flatMap((helper) => (helper.dead || helper.pid === undefined ? [] : [helper.pid]));
  }

  /** Stops every helper: the commands they still run are stopped. */
  close(): void {
    this.#state = "off";
    for (const helper of this.#all.keys()) helper.close();
    this.#all.clear();
    this.#idle.length = 0;
  }

  #forget(helper: ProcessHelper): void {
    this.#all.delete(helper);
  }
}
